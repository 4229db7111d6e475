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
  std::vector<std::string> tokens;
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
// Whether the platform's tokens are devices a provider can report dead (ios, android), so
// inactive marks apply; web's are channel names.
inline bool has_device_tokens(Platform p) { return p != Platform::web; }
std::string_view to_string(Priority p);

// The lanes a job can go to; a notification without `lane` goes to kDefaultLane.
inline constexpr std::string_view kDefaultLane = "default";
inline constexpr std::string_view kLanes[] = {"high", "default", "bulk"};
std::string_view lane_of(const Notification& n);

}  // namespace pushgw::job
