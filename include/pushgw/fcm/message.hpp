#pragma once
// The FCM HTTP v1 request for one notification and one target: a registration token, or the
// notification's topic or condition (pure logic, no I/O).
//
//   POST /v1/projects/<project_id>/messages:send
//   authorization: Bearer <access token>
//   content-type: application/json
//   {"message": {...}}
//
// The message, in the fields of Google's v1 Message resource (proto names, which the API
// accepts as well as lowerCamelCase):
//   token | topic | condition     the target: a registration token, or the notification's
//                                 fcm_topic (a name, no "/topics/" prefix) or condition
//   notification.title / body / image    title / message / image
//   data                          `data`, every value a string (FCM requires it): non-string
//                                 JSON values become their JSON text (42 → "42")
//   android.priority              "HIGH" / "NORMAL" from priority (unset: FCM's default)
//   android.collapse_key          collapse_id
//   android.ttl                   expiration − now as "<n>s"; "0s" when already past
//                                 ("deliver now or never", as APNs does for an expiration in
//                                 the past)
//   android.notification          only for a display notification (title, message or image),
//                                 so that a data-only message stays data-only:
//                                 sound, click_action ← category, tag ← collapse_id (replaces
//                                 the shown notification of the same id, as apns-collapse-id
//                                 does), notification_count ← badge
// Then the `fcm` pass-through object, when given, is merged over the message as a JSON merge
// patch (RFC 7396: objects merge key by key, other values replace, null removes), so it wins.
// Use the proto (snake_case) names in it to override a built field. After the merge, the
// target is always ours (a second one would make FCM refuse the request, so the pass-through's
// token, topic and condition are removed), and data values are made strings again.
// iOS-only fields (thread_id, push_type, content_available, mutable_content, topic, apns) are
// not mapped: FCM's own `apns` block can be given in the pass-through.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "pushgw/job/notification.hpp"
#include "pushgw/job/outcome.hpp"

namespace pushgw::fcm {

// The `message` object (without the {"message": ...} wrapper). `now_s` is unix seconds, for
// the ttl.
nlohmann::json build_fcm_message(const job::Notification& n, std::string_view target, std::int64_t now_s);

// The message field that names the target: "token", "topic" or "condition".
std::string_view target_field(job::Target target);

// FCM's limit on what a message carries to the device: 4096 bytes ("both notification and
// data messages"; FCM answers 400 INVALID_ARGUMENT "Message is too big" above it).
inline constexpr std::size_t kFcmPayloadLimit = 4096;
// The limit FCM applies to topic messages (to a topic or a condition of topics): 2048 bytes.
inline constexpr std::size_t kFcmTopicPayloadLimit = 2048;
// kFcmTopicPayloadLimit for a notification to a topic or condition, else kFcmPayloadLimit.
std::size_t fcm_payload_limit(const job::Notification& n);

// The bytes of `message` that count against kFcmPayloadLimit, as compact JSON: its
// `notification` and `data`, and the `notification` and `data` of its `android` block (what
// reaches an Android device). The token, the other platforms' blocks and the options are not
// counted.
std::size_t fcm_payload_size(const nlohmann::json& message);

// "/v1/projects/<project_id>/messages:send"
std::string fcm_send_path(std::string_view project_id);

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct FcmRequest {
  std::string path;
  HeaderList headers;  // lower-case names
  std::string body;    // {"message": {...}}
};

// The request, or the outcome when the notification cannot be sent: an empty registration
// token (rejected, "MissingRegistration"; "MissingTarget" for an empty topic or condition), a message that cannot be serialised (rejected,
// e.g. invalid UTF-8 in a string: "InvalidMessage"). `access_token` is the bare token.
std::variant<FcmRequest, job::SendOutcome> build_fcm_request(const job::Notification& n, std::string_view token,
                                                             std::string_view project_id,
                                                             std::string_view access_token, std::int64_t now_s);

}  // namespace pushgw::fcm
