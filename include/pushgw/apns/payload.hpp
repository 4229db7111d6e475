#pragma once
// The APNs request body and headers for one notification (pure logic, no I/O).
//
// Payload: {"aps": {...}, <data keys>...} built from the notification's fields:
//   title → aps.alert.title, message → aps.alert.body, badge → aps.badge, sound → aps.sound,
//   category → aps.category, thread_id → aps.thread-id, content_available → aps.content-available
//   = 1, mutable_content → aps.mutable-content = 1, data keys at the top level beside "aps".
//   live_activity → aps.event, content-state, timestamp (the job's enqueue time when not given),
//   stale-date, dismissal-date, relevance-score, attributes-type, attributes, input-push-token
//   = 1, input-push-channel. push_type widgets → aps.content-changed = true.
//   `image` has no APNs equivalent (a notification service extension reads it from `data`).
// Then `apns.payload`, when given, is merged over it as a JSON merge patch (RFC 7386/7396):
// objects merge key by key, any other value replaces, and null removes a built key — so the
// pass-through always wins.
//
// Headers: apns-push-type, apns-priority, apns-topic, and apns-expiration / apns-collapse-id
// when set; then `apns.headers` override by name (case-insensitive). apns-id is not set here:
// the sender assigns it per request.

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "pushgw/job/notification.hpp"

namespace pushgw::apns {

inline constexpr std::size_t kPayloadLimit = 4096;      // bytes
inline constexpr std::size_t kVoipPayloadLimit = 5120;  // bytes, push type voip

using HeaderList = std::vector<std::pair<std::string, std::string>>;

// The payload as JSON, and as the compact text sent to APNs.
nlohmann::json build_apns_payload_json(const job::Notification& n);
std::string build_apns_payload(const job::Notification& n);

// The push type the request will carry: job::explicit_push_type (apns.headers' apns-push-type,
// push_type, liveactivity for live_activity or a broadcast channel), else "background" when the
// payload has content-available and no alert, sound or badge, else "alert".
std::string effective_push_type(const job::Notification& n);
// The same with the payload already built (build_apns_payload_json(n)): not built again.
std::string effective_push_type(const job::Notification& n, const nlohmann::json& payload);

// kVoipPayloadLimit (5120) for push type voip and for broadcasts, else kPayloadLimit.
std::size_t apns_payload_limit(const job::Notification& n);
std::size_t apns_payload_limit(const job::Notification& n, std::string_view push_type);

// apns-priority: "10" for priority high or unset, "5" for normal, unless the push type takes
// one value only (background 5, pushtotalk 10: job::kApnsPushTypes).
std::string apns_priority(const job::Notification& n, std::string_view push_type);

// apns-push-type: effective_push_type. apns-priority: apns_priority.
// apns-topic: `topic`, else default_topic (never for mdm, whose topic is its certificate's),
//   with the suffix APNs requires for the push type (job::kApnsPushTypes: voip ".voip",
//   liveactivity ".push-type.liveactivity", widgets ".push-type.widgets", ...) unless already
//   there; omitted when both topics are empty, and for a broadcast (the path names the app).
// apns-expiration: `expiration` (unix s); "0" when unset for pushtotalk (deliver now or never)
//   and for broadcasts (where the header is required). apns-collapse-id: `collapse_id` (not on
//   broadcasts).
// Names are lowercase (HTTP/2). Pass-through headers replace built ones of the same name.
HeaderList build_apns_headers(const job::Notification& n, const std::string& default_topic);
// The same with the push type already known (effective_push_type).
HeaderList build_apns_headers(const job::Notification& n, const std::string& default_topic,
                              const std::string& push_type);

}  // namespace pushgw::apns
