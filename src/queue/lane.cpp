#include "pushgw/queue/lane.hpp"

#include "pushgw/common/quote.hpp"
#include "pushgw/job/notification.hpp"

namespace pushgw::queue {

// The job codec accepts exactly these names, in this order, in a notification's "lane".
static_assert([] {
  for (const Lane lane : Lane::all()) {
    if (job::kLanes[lane.index()] != lane.name()) return false;
  }
  return std::size(job::kLanes) == Lane::kCount && job::kDefaultLane == Lane::default_lane().name();
}());

std::variant<Lane, LaneError> Lane::parse(std::string_view name) {
  for (const Lane lane : all()) {
    if (lane.name() == name) return lane;
  }
  return LaneError{"unknown lane " + common::quote(name) + R"(: must be "high", "default" or "bulk")"};
}

}  // namespace pushgw::queue
