#pragma once
// POST /api/push: gorush's request and response shapes, so gorush users can switch by changing
// the host. The request is mapped to pushgw Notifications and then goes through the same checks
// as POST /push (check_notification), so it is accepted or rejected as a whole.
//
// gorush field (appleboy/gorush notify.PushNotification) → pushgw:
//   platform 1|2 → ios|android (3, Huawei, is rejected); tokens, and the legacy `to` appended
//   to them; notif_id → id; title, message, image, priority, badge, category, collapse_id,
//   push_type, expiration, data → same; thread-id (or thread_id) → thread_id;
//   content_available / mutable_content → same when true; topic → topic (iOS);
//   Android FCM topics and conditions: topic and `to: "/topics/<name>"` → fcm_topic (without
//   the prefix), condition → condition (an empty `tokens` beside them counts as unset);
//   sound: a string → sound; on iOS an object {critical, name, volume} and the `name` / `volume`
//   fields → apns.payload.aps.sound.
//   iOS only: alert {title, body, subtitle, loc-key, ...} → apns.payload.aps.alert (merged over
//   title/message), url-args → aps.url-args, interruption_level → aps.interruption-level.
//   Android only: collapse_key → collapse_id; time_to_live (s) → fcm.android.ttl;
//   restricted_package_name → fcm.android.restricted_package_name; notification (legacy FCM
//   notification) → fcm.android.notification (android_channel_id → channel_id, badge →
//   notification_count); android, webpush, apns, fcm_options → fcm.<same> (FCM v1 message).
//   pushgw extensions also accepted: app, lane, send_at.
// Gorush semantics kept: empty strings, empty objects and `false` mean "not set" (Go's
// omitempty), as does null; a negative badge is ignored.
// Accepted and ignored (listed in gorush.cpp): retry, apns_id, the other platform's fields,
// Huawei fields, production/development/dry_run when false.
// Rejected with 400 naming the field: anything else, and features pushgw does not have —
// Huawei, per-request FCM `api_key`, `dry_run: true`, and per-request APNs environments
// (`production` / `development: true`; the app's apns.endpoint decides).

#include <cstddef>
#include <string_view>
#include <variant>

#include <nlohmann/json.hpp>

#include "pushgw/api/push_request.hpp"
#include "pushgw/job/validate.hpp"

namespace pushgw::api {

// gorush answers 200 (not 202) when it has queued the notifications.
inline constexpr int kGorushSuccessStatus = 200;

// Parses, maps and validates a gorush request body; errors name gorush's field paths
// (e.g. "notifications[0].thread-id").
std::variant<ParsedPush, ApiError> parse_gorush_request(std::string_view body,
                                                        const job::ValidationContext& ctx);

// {"counts": <tokens accepted>, "logs": [], "success": "ok"}
nlohmann::json gorush_success_response(const ParsedPush& push);

// gorush's error shape: {"code": <status>, "message": "<path>: <error>"} (no path prefix when
// the path is empty).
nlohmann::json gorush_error_response(const ApiError& error);

}  // namespace pushgw::api
