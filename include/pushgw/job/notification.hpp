#pragma once
// The Notification model: one element of `notifications` in POST /push, and one Redis job.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace pushgw::job {

// ios → APNs, android → FCM, web → live sessions (tokens are channel names).
enum class Platform { ios, android, web };
enum class Priority { high, normal };

// What `tokens` names. Device tokens (web: channel names) by default; or the one FCM topic,
// FCM condition or APNs broadcast channel a notification goes to instead, given in JSON by its
// own field (fcm_topic, condition, channel) and held in `tokens` as its only element, so that
// splitting, the fan-out and retries treat it as one more send target.
enum class Target { tokens, fcm_topic, fcm_condition, apns_channel };

// Set by pushgw when a notification is stored as a job; absent in what producers LPUSH.
struct JobMeta {
  std::string id;                    // unique job id (pushgw-generated)
  std::int64_t enqueued_ms = 0;      // unix ms when stored; latency is measured from here
  int attempt = 0;                   // delivery attempts already made (retries)
  int redeliveries = 0;              // times recovered from a dead instance
  bool operator==(const JobMeta&) const = default;
};

struct Notification {
  Platform platform = Platform::ios;
  Target target = Target::tokens;
  std::vector<std::string> tokens;        // see Target
  std::string app;                   // empty = the only configured app

  std::optional<std::string> title;
  std::optional<std::string> message;
  std::optional<std::int64_t> badge;
  std::optional<std::string> sound;
  std::optional<std::string> category;
  std::optional<std::string> thread_id;
  std::optional<std::string> image;
  std::optional<nlohmann::json> data;     // object
  std::optional<Priority> priority;
  std::optional<std::string> collapse_id;
  std::optional<std::int64_t> expiration; // unix s
  std::optional<std::string> push_type;   // apns-push-type: alert, background, voip, ...
  std::optional<bool> content_available;
  std::optional<bool> mutable_content;
  std::optional<std::string> topic;
  // An ActivityKit push (push type liveactivity): {"event", "content_state", "timestamp",
  // "stale_date", "dismissal_date", "relevance_score", "attributes_type", "attributes",
  // "input_push_token", "input_push_channel"}, shapes checked by the codec.
  std::optional<nlohmann::json> live_activity;

  std::optional<nlohmann::json> apns;     // {"headers": {...}, "payload": {...}}
  std::optional<nlohmann::json> fcm;      // merged into the FCM v1 `message`

  std::optional<std::string> id;          // producer's idempotency key
  std::optional<std::string> lane;        // "high" | "default" | "bulk"; absent = default
  std::optional<std::int64_t> send_at;    // unix s; delivered no earlier
  // A W3C trace id (32 lowercase hex digits): from the request's `traceparent` header or set by
  // the producer; logged with the job id at each stage, so one request can be followed.
  std::optional<std::string> trace_id;

  std::optional<JobMeta> job;             // present once stored by pushgw

  bool operator==(const Notification&) const = default;
};

// A problem in one field of the input, named by its JSON path.
struct FieldError {
  std::string path;     // e.g. "notifications[3].tokens[0]"
  std::string message;  // e.g. "must be a 64-character hex APNs device token"
  bool operator==(const FieldError&) const = default;
};

std::string_view to_string(Platform p);
// The JSON field that carries a target: "tokens", "fcm_topic", "condition" or "channel".
std::string_view field_name(Target t);
// Whether the notification's tokens are devices a provider can report dead (ios, android
// tokens), so inactive marks apply; web channels, topics, conditions and broadcast channels
// never die.
inline bool has_device_tokens(const Notification& n) {
  return n.platform != Platform::web && n.target == Target::tokens;
}
std::string_view to_string(Priority p);

// The lanes a job can go to; a notification without `lane` goes to kDefaultLane.
inline constexpr std::string_view kDefaultLane = "default";
inline constexpr std::string_view kLanes[] = {"high", "default", "bulk"};
std::string_view lane_of(const Notification& n);

}  // namespace pushgw::job
