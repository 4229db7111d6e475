#pragma once
// Which lane gets the next free worker when several lanes are waiting for one: stride
// scheduling over the lane weights. Each lane has a "pass" that advances by 1/weight each time
// it is served; the waiting lane with the smallest pass is served next. Over any busy period a
// lane with weight 8 is served 8 times as often as one with weight 1, a lane alone is served
// every time, and a lane that starts waiting again does not get credit for the time it was
// idle (its pass is brought up to the current minimum). Pure logic, no I/O.

#include <array>
#include <cstddef>
#include <optional>

#include "pushgw/config/config.hpp"
#include "pushgw/queue/lane.hpp"

namespace pushgw::queue {

class LaneScheduler {
 public:
  // Weights by Lane::index() (high, default, bulk); 0 counts as 1.
  explicit LaneScheduler(std::array<std::size_t, Lane::kCount> weights);
  static LaneScheduler from_config(const config::QueueConfig& queue);

  // Marks a lane as waiting (or not) for a worker.
  void set_waiting(Lane lane, bool waiting);
  bool any_waiting() const;

  // The waiting lane to serve next (and advances its pass); nullopt when none waits.
  std::optional<Lane> next();

 private:
  std::array<double, Lane::kCount> stride_{};
  std::array<double, Lane::kCount> pass_{};
  std::array<bool, Lane::kCount> waiting_{};
};

}  // namespace pushgw::queue
