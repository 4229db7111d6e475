#include "pushgw/queue/keys.hpp"

namespace pushgw::queue {

namespace {

// <prefix>:{<lane>}:<suffix>
std::string lane_key(std::string_view prefix, Lane lane, std::string_view suffix) {
  std::string key;
  key.reserve(prefix.size() + lane.name().size() + suffix.size() + 4);
  key.append(prefix).append(":{").append(lane.name()).append("}:").append(suffix);
  return key;
}

// <prefix>:<kind>:<name>
std::string named_key(std::string_view prefix, std::string_view kind, std::string_view name) {
  std::string key;
  key.reserve(prefix.size() + kind.size() + name.size() + 2);
  key.append(prefix).append(":").append(kind).append(":").append(name);
  return key;
}

// <prefix>:<kind>:<a>:<b>
std::string named_key(std::string_view prefix, std::string_view kind, std::string_view a, std::string_view b) {
  return named_key(prefix, kind, a).append(":").append(b);
}

}  // namespace

FeedbackKeys::FeedbackKeys(std::string_view prefix)
    : prefix_(prefix),
      events_(std::string(prefix) + ":feedback"),
      webhook_batch_("{" + events_ + "}:webhook:batch"),
      webhook_lease_("{" + events_ + "}:webhook:lease") {}

std::string FeedbackKeys::inactive(std::string_view app, std::string_view platform) const {
  return named_key(prefix_, "inactive", app, platform);
}

std::string FeedbackKeys::reactivated(std::string_view app, std::string_view platform) const {
  return "{" + inactive(app, platform) + "}:reactivated";
}

Keys::Keys(std::string prefix)
    : prefix_(std::move(prefix)),
      instances_(prefix_ + ":instances"),
      reaper_lease_(prefix_ + ":reaper"),
      feedback_(prefix_) {
  for (const Lane lane : Lane::all()) {
    lanes_[lane.index()] = LaneKeys{lane_key(prefix_, lane, "queue"), lane_key(prefix_, lane, "retry"),
                                    lane_key(prefix_, lane, "dead")};
  }
}

std::string Keys::processing(Lane lane, std::string_view instance) const {
  return lane_key(prefix_, lane, "processing:").append(instance);
}

std::string Keys::instance(std::string_view instance) const { return named_key(prefix_, "instance", instance); }

std::string Keys::web_channel(std::string_view channel) const {
  std::string key = named_key(prefix_, "web", "{");
  return key.append(channel).append("}");
}

std::string Keys::idempotency(std::string_view app, std::string_view id) const {
  return named_key(prefix_, "idempotency", app, id);
}

}  // namespace pushgw::queue
