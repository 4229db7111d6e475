#include "pushgw/queue/keys.hpp"

#include <algorithm>

namespace pushgw::queue {

bool is_lane(std::string_view name) {
  return std::find(kLanes.begin(), kLanes.end(), name) != kLanes.end();
}

std::string Keys::lane_key(std::string_view lane, std::string_view suffix) const {
  std::string key;
  key.reserve(prefix_.size() + lane.size() + suffix.size() + 4);
  key.append(prefix_).append(":{").append(lane).append("}:").append(suffix);
  return key;
}

std::string Keys::queue(std::string_view lane) const { return lane_key(lane, "queue"); }
std::string Keys::retry(std::string_view lane) const { return lane_key(lane, "retry"); }
std::string Keys::dead(std::string_view lane) const { return lane_key(lane, "dead"); }

std::string Keys::processing(std::string_view lane, std::string_view instance) const {
  return lane_key(lane, "processing:").append(instance);
}

std::string Keys::instance(std::string_view instance) const {
  return prefix_ + ":instance:" + std::string(instance);
}

std::string Keys::instances() const { return prefix_ + ":instances"; }

std::string Keys::inactive(std::string_view app, std::string_view platform) const {
  return prefix_ + ":inactive:" + std::string(app) + ":" + std::string(platform);
}

std::string Keys::feedback() const { return prefix_ + ":feedback"; }

std::string Keys::reaper_lease() const { return prefix_ + ":reaper"; }

std::string Keys::idempotency(std::string_view app, std::string_view id) const {
  return prefix_ + ":idempotency:" + std::string(app) + ":" + std::string(id);
}

}  // namespace pushgw::queue
