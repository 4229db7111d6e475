#pragma once
// POST /push without the HTTP: parse and validate the body, split it into jobs, say where each
// job goes in Redis, and build the 202 answer (DESIGN §4 "HTTP API"). All or nothing: one bad
// notification rejects the whole request, so nothing of a rejected request is enqueued.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "pushgw/job/notification.hpp"
#include "pushgw/job/split.hpp"
#include "pushgw/job/validate.hpp"

namespace pushgw::api {

// A request the API refuses: the HTTP status, what is wrong, and where (a JSON path, "" for
// the whole body).
struct ApiError {
  int status = 400;
  std::string error;
  std::string path;

  // {"error": "...", "path": "..."}; "path" is left out when empty.
  nlohmann::json to_json() const;
  bool operator==(const ApiError&) const = default;
};

// A valid request: its notifications, each with `app` set to the effective app.
struct ParsedPush {
  std::vector<job::Notification> notifications;
  std::size_t token_count = 0;
};

// The envelope /push and /api/push share: the body parses as a JSON object whose only field is
// `notifications`, an array of 1..max_notifications_per_request elements. Returns the document.
std::variant<nlohmann::json, ApiError> parse_notifications_envelope(std::string_view body,
                                                                    const job::ValidationContext& ctx);

// The body must be a JSON object {"notifications": [...]} with 1..max_notifications_per_request
// elements and no other field; each element is decoded and validated (see check_notification).
std::variant<ParsedPush, ApiError> parse_push_request(std::string_view body,
                                                      const job::ValidationContext& ctx);

// The provider's payload limit, checked before anything is sent: for iOS the APNs payload
// must fit apns_payload_limit of its push type (4096 bytes, 5120 for VoIP); for Android the
// FCM message's payload must fit fcm::kFcmPayloadLimit (fcm_payload_size). The error is at
// `path`. Used at intake and again by the dispatcher for jobs that producers LPUSHed.
std::optional<job::FieldError> check_payload_size(const job::Notification& n, const std::string& path);

// The per-notification checks every API shares (also /api/push): validate_notification,
// `job` must be absent (pushgw sets it), and check_payload_size. On success sets n.app to the
// effective app.
std::optional<ApiError> check_notification(job::Notification& n, const job::ValidationContext& ctx,
                                           const std::string& path);

// Splits every notification into jobs of at most split_size tokens (job::split_into_jobs).
std::vector<job::Notification> make_jobs(const ParsedPush& push, std::size_t split_size,
                                         const job::JobIdSource& ids, std::int64_t now_ms);

// 202 body: {"accepted": {"notifications": N, "tokens": T, "jobs": J}, "job_ids": [...]}.
nlohmann::json accepted_response(const ParsedPush& push, const std::vector<job::Notification>& jobs);

}  // namespace pushgw::api
