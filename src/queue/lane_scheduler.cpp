#include "pushgw/queue/lane_scheduler.hpp"

#include <algorithm>
#include <limits>

namespace pushgw::queue {

std::size_t lane_index(std::string_view lane) {
  return static_cast<std::size_t>(std::find(kLanes.begin(), kLanes.end(), lane) - kLanes.begin());
}

LaneScheduler::LaneScheduler(std::array<std::size_t, kLaneCount> weights) {
  for (std::size_t i = 0; i < kLaneCount; ++i) {
    stride_[i] = 1.0 / static_cast<double>(std::max<std::size_t>(weights[i], 1));
  }
}

LaneScheduler LaneScheduler::from_config(const config::QueueConfig& queue) {
  return LaneScheduler({queue.weight_high, queue.weight_default, queue.weight_bulk});
}

void LaneScheduler::set_waiting(std::size_t lane, bool waiting) {
  if (waiting && !waiting_[lane]) {
    // No credit for idle time: start from the smallest pass among the lanes already waiting.
    double min_pass = std::numeric_limits<double>::infinity();
    for (std::size_t i = 0; i < kLaneCount; ++i) {
      if (waiting_[i]) min_pass = std::min(min_pass, pass_[i]);
    }
    if (min_pass != std::numeric_limits<double>::infinity()) pass_[lane] = std::max(pass_[lane], min_pass);
  }
  waiting_[lane] = waiting;
}

bool LaneScheduler::any_waiting() const {
  return std::any_of(waiting_.begin(), waiting_.end(), [](bool w) { return w; });
}

std::optional<std::size_t> LaneScheduler::next() {
  std::optional<std::size_t> best;
  for (std::size_t i = 0; i < kLaneCount; ++i) {
    // Ties go to the higher-priority lane (lower index).
    if (waiting_[i] && (!best || pass_[i] < pass_[*best])) best = i;
  }
  if (best) pass_[*best] += stride_[*best];
  return best;
}

}  // namespace pushgw::queue
