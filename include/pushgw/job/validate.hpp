#pragma once
// Validation of a decoded Notification against the configuration: token formats, limits, the
// app and its providers, and the value sets the providers accept. Every error names the field
// by its JSON path. Shapes (types, enums) were already checked by decode_notification.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "pushgw/config/config.hpp"
#include "pushgw/job/notification.hpp"

namespace pushgw::job {

inline constexpr std::size_t kApnsTokenMinLength = 64;   // 32 bytes in hex, the size today
inline constexpr std::size_t kApnsTokenMaxLength = 200;  // room for longer tokens later
inline constexpr std::size_t kFcmTokenMaxLength = 4096;
inline constexpr std::size_t kMaxCollapseIdBytes = 64;   // APNs apns-collapse-id limit
inline constexpr std::size_t kMaxIdLength = 256;         // producer's `id`
// A stored job's id may carry the "#<n>" suffix split_into_jobs appends (split.hpp).
inline constexpr std::size_t kMaxJobIdLength = kMaxIdLength + 21;
// Latest accepted `expiration` / `send_at` (9999-12-31T23:59:59Z): catches milliseconds sent
// by mistake, and keeps send_at * 1000 in range.
inline constexpr std::int64_t kMaxUnixSeconds = 253402300799;

// Each apns-push-type APNs defines, with the rules that go with it (Apple's "Sending
// notification requests to APNs", ActivityKit, PushToTalk and WidgetKit documentation).
struct ApnsPushType {
  std::string_view name;
  // Appended to the app's bundle id to make apns-topic ("" = the bundle id itself). mdm has
  // none: its topic is the one in the MDM push certificate, which the notification must give.
  std::string_view topic_suffix;
  std::string_view priorities;  // the apns-priority values APNs accepts, most urgent first
};
inline constexpr ApnsPushType kApnsPushTypes[] = {
    {"alert", "", "10 5 1"},
    {"background", "", "5"},  // "Using priority 10 is an error"
    {"location", ".location-query", "10 5"},
    {"voip", ".voip", "10 5 1"},
    {"complication", ".complication", "10 5"},
    {"fileprovider", ".pushkit.fileprovider", "10 5 1"},
    {"mdm", "", "10 5 1"},
    {"liveactivity", ".push-type.liveactivity", "10 5"},
    {"pushtotalk", ".voip-ptt", "10"},  // delivered at once or never (apns-expiration 0)
    {"widgets", ".push-type.widgets", "10 5 1"},
};
// The rules of one push type; nullptr for a name APNs does not define.
const ApnsPushType* find_apns_push_type(std::string_view name);
// Whether APNs accepts `priority` ("10", "5", "1") for the push type.
bool priority_allowed(const ApnsPushType& type, std::string_view priority);

// The push type the notification asks for itself: apns.headers' apns-push-type, else
// push_type, else "liveactivity" when it has live_activity; nullopt when pushgw picks alert or
// background from the payload.
std::optional<std::string> explicit_push_type(const Notification& n);
// A pass-through apns.headers value, its name matched case-insensitively.
std::optional<std::string> apns_passthrough_header(const Notification& n, std::string_view lowercase_name);

// FCM topics: 1..900 characters of [a-zA-Z0-9-_.~%], given without the "/topics/" prefix.
inline constexpr std::size_t kFcmTopicMaxLength = 900;
// FCM conditions: at most this many `'topic' in topics` terms joined by &&, ||, ! and
// parentheses.
inline constexpr std::size_t kFcmConditionMaxTopics = 5;
// APNs broadcast channel ids are base64; Apple gives no size, this bounds what we store.
inline constexpr std::size_t kApnsChannelIdMaxLength = 1024;

// Which providers one configured app has.
struct AppProviders {
  bool apns = false;
  bool fcm = false;
  bool web = false;  // web.enabled: every app may send to live sessions
};

// What validation needs to know about the configuration.
struct ValidationContext {
  config::LimitsConfig limits;
  std::map<std::string, AppProviders, std::less<>> apps;  // app name → its providers

  static ValidationContext from_config(const config::Config& config);
};

// The first problem in `n` (a notification found at `path`), or nullopt when it can be sent.
// Checks, in order: app (must be configured; may be omitted only when exactly one app exists)
// and its provider for the platform (ios → apns, android → fcm); tokens (non-empty, at most
// limits.max_tokens_per_notification, format per platform, no duplicates: the error names the
// second occurrence); collapse_id ≤ 64 bytes; badge ≥ 0; expiration, send_at 0..kMaxUnixSeconds;
// push_type one of
// kApnsPushTypes with its priority and topic rules; live_activity as ActivityKit needs it for its
// event; the target fitting the platform (fcm_topic, condition: android; channel: ios,
// live activity updates and ends only); id 1..256 bytes (stored jobs: ..kMaxJobIdLength); for iOS no `data` key
// "aps"; apns.headers only apns-* names (not apns-id, which the sender assigns) with valid
// values; apns.payload.aps an object.
std::optional<FieldError> validate_notification(const Notification& n,
                                                const ValidationContext& ctx,
                                                const std::string& path);

// The app a notification goes to: its `app` when configured, else the only configured app;
// nullopt when neither applies.
std::optional<std::string> resolve_app(const Notification& n, const ValidationContext& ctx);

// Token formats: APNs = even number of hex digits, 64..200; FCM = 1..4096 characters of
// [A-Za-z0-9_:.-]. Each returns nullopt when valid, else what is wrong.
std::optional<std::string> check_apns_token(std::string_view token);
// A W3C trace id: 32 lowercase hex digits, not all zero.
bool is_trace_id(std::string_view text);
// The trace id of a W3C `traceparent` header ("00-<trace id>-<parent id>-<flags>"); nullopt
// for a header that is not valid (the spec says to ignore it then).
std::optional<std::string> trace_id_of_traceparent(std::string_view header);
std::optional<std::string> check_fcm_token(std::string_view token);
// Each returns nullopt when valid, else what is wrong (with the character position).
std::optional<std::string> check_fcm_topic(std::string_view topic);
std::optional<std::string> check_fcm_condition(std::string_view condition);
std::optional<std::string> check_apns_channel_id(std::string_view channel_id);
// A web channel name (the tokens of platform web): 1..128 characters of [A-Za-z0-9:_.-].
inline constexpr std::size_t kWebChannelMaxLength = 128;
std::optional<std::string> check_web_channel(std::string_view channel);

}  // namespace pushgw::job
