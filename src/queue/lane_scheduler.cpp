#include "pushgw/queue/lane_scheduler.hpp"

#include <algorithm>
#include <limits>

namespace pushgw::queue {

LaneScheduler::LaneScheduler(std::array<std::size_t, Lane::kCount> weights) {
  for (std::size_t i = 0; i < Lane::kCount; ++i) {
    stride_[i] = 1.0 / static_cast<double>(std::max<std::size_t>(weights[i], 1));
  }
}

LaneScheduler LaneScheduler::from_config(const config::QueueConfig& queue) {
  return LaneScheduler({queue.weight_high, queue.weight_default, queue.weight_bulk});
}

void LaneScheduler::set_waiting(Lane lane, bool waiting) {
  const std::size_t at = lane.index();
  if (waiting && !waiting_[at]) {
    // No credit for idle time: start from the smallest pass among the lanes already waiting.
    double min_pass = std::numeric_limits<double>::infinity();
    for (std::size_t i = 0; i < Lane::kCount; ++i) {
      if (waiting_[i]) min_pass = std::min(min_pass, pass_[i]);
    }
    if (min_pass != std::numeric_limits<double>::infinity()) pass_[at] = std::max(pass_[at], min_pass);
  }
  waiting_[at] = waiting;
}

bool LaneScheduler::any_waiting() const {
  return std::any_of(waiting_.begin(), waiting_.end(), [](bool w) { return w; });
}

std::optional<Lane> LaneScheduler::next() {
  std::optional<std::size_t> best;
  for (std::size_t i = 0; i < Lane::kCount; ++i) {
    // Ties go to the higher-priority lane (lower index).
    if (waiting_[i] && (!best || pass_[i] < pass_[*best])) best = i;
  }
  if (!best) return std::nullopt;
  pass_[*best] += stride_[*best];
  return Lane::all()[*best];
}

}  // namespace pushgw::queue
