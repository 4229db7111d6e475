#include "pushgw/job/notification.hpp"

namespace pushgw::job {

std::string_view to_string(Platform p) {
  switch (p) {
    case Platform::ios: return "ios";
    case Platform::android: return "android";
    case Platform::web: return "web";
  }
  return "unknown";
}

std::string_view field_name(Target t) {
  switch (t) {
    case Target::tokens: return "tokens";
    case Target::fcm_topic: return "fcm_topic";
    case Target::fcm_condition: return "condition";
    case Target::apns_channel: return "channel";
  }
  return "tokens";
}

std::string_view to_string(Priority p) {
  switch (p) {
    case Priority::high: return "high";
    case Priority::normal: return "normal";
  }
  return "unknown";
}

std::string_view lane_of(const Notification& n) {
  return n.lane ? std::string_view(*n.lane) : kDefaultLane;
}

}  // namespace pushgw::job
