#include "pushgw/api/push_request.hpp"

#include <iterator>

#include "pushgw/apns/payload.hpp"
#include "pushgw/fcm/message.hpp"
#include "pushgw/job/codec.hpp"

namespace pushgw::api {

using nlohmann::json;

namespace {

ApiError bad_request(job::FieldError e) { return ApiError{400, std::move(e.message), std::move(e.path)}; }

}  // namespace

json ApiError::to_json() const {
  json j = {{"error", error}};
  if (!path.empty()) j["path"] = path;
  return j;
}

std::optional<ApiError> check_notification(job::Notification& n, const job::ValidationContext& ctx,
                                           const std::string& path) {
  if (n.job) {
    return ApiError{400, "is set by pushgw when it stores a job; producers must not send it",
                    job::child_path(path, "job")};
  }
  if (auto e = job::validate_notification(n, ctx, path)) return bad_request(std::move(*e));
  n.app = *job::resolve_app(n, ctx);  // validation guarantees an app

  if (auto e = check_payload_size(n, path)) return bad_request(std::move(*e));
  return std::nullopt;
}

std::optional<job::FieldError> check_payload_size(const job::Notification& n, const std::string& path) {
  if (n.platform == job::Platform::ios) {
    const json payload = apns::build_apns_payload_json(n);  // built once for all three
    const auto size = job::dump_compact(payload).size();
    const std::string push_type = apns::effective_push_type(n, payload);
    const auto limit = apns::apns_payload_limit(n, push_type);
    if (size > limit) {
      return job::FieldError{path, "APNs payload is " + std::to_string(size) + " bytes, over the limit of " +
                                       std::to_string(limit) + " bytes for push type " + push_type};
    }
  } else if (n.platform == job::Platform::web) {
    const auto size = job::web_notification_json(n).size();
    if (size > job::kWebPayloadLimit) {
      return job::FieldError{path, "web message (the notification live clients receive) is " + std::to_string(size) +
                                       " bytes, over the limit of " + std::to_string(job::kWebPayloadLimit) + " bytes"};
    }
  } else {
    const auto size = fcm::fcm_payload_size(fcm::build_fcm_message(n, "", 0));
    const auto limit = fcm::fcm_payload_limit(n);
    if (size > limit) {
      return job::FieldError{path, "FCM payload (notification and data) is " + std::to_string(size) +
                                       " bytes, over the limit of " + std::to_string(limit) + " bytes" +
                                       (limit == fcm::kFcmTopicPayloadLimit ? " for topic messages" : "")};
    }
  }
  return std::nullopt;
}

std::variant<json, ApiError> parse_notifications_envelope(std::string_view body,
                                                          const job::ValidationContext& ctx) {
  auto parsed = job::parse_json(body);
  if (auto* e = std::get_if<job::FieldError>(&parsed)) return bad_request(std::move(*e));
  auto& j = std::get<json>(parsed);
  if (!j.is_object()) return ApiError{400, "request body must be a JSON object", ""};

  static constexpr std::string_view kKnown[] = {"notifications"};
  for (const auto& [key, value] : j.items()) {
    if (key != "notifications") {
      return ApiError{400, job::unknown_field_message(key, kKnown), job::child_path("", key)};
    }
  }
  const auto list = j.find("notifications");
  if (list == j.end() || list->is_null()) return ApiError{400, "is required", "notifications"};
  if (!list->is_array()) return ApiError{400, "must be an array", "notifications"};
  if (list->empty()) return ApiError{400, "must not be empty", "notifications"};
  const auto limit = ctx.limits.max_notifications_per_request;
  if (list->size() > limit) {
    return ApiError{400,
                    "has " + std::to_string(list->size()) + " notifications; the limit is " +
                        std::to_string(limit) + " per request",
                    "notifications"};
  }
  return std::move(j);
}

std::variant<ParsedPush, ApiError> parse_push_request(std::string_view body,
                                                      const job::ValidationContext& ctx) {
  auto envelope = parse_notifications_envelope(body, ctx);
  if (auto* e = std::get_if<ApiError>(&envelope)) return std::move(*e);
  json* list = &std::get<json>(envelope)["notifications"];

  ParsedPush push;
  push.notifications.reserve(list->size());
  for (std::size_t i = 0; i < list->size(); ++i) {
    const auto path = job::index_path("notifications", i);
    auto decoded = job::decode_notification(std::move((*list)[i]), path);  // moves the values out
    if (auto* e = std::get_if<job::FieldError>(&decoded)) return bad_request(std::move(*e));
    auto& n = std::get<job::Notification>(decoded);
    if (auto e = check_notification(n, ctx, path)) return std::move(*e);
    push.token_count += n.tokens.size();
    push.notifications.push_back(std::move(n));
  }
  return push;
}

std::vector<job::Notification> make_jobs(const ParsedPush& push, std::size_t split_size,
                                         const job::JobIdSource& ids, std::int64_t now_ms) {
  std::vector<job::Notification> jobs;
  for (const auto& n : push.notifications) {
    auto part = job::split_into_jobs(n, split_size, ids, now_ms, n.app);
    jobs.insert(jobs.end(), std::make_move_iterator(part.begin()),
                std::make_move_iterator(part.end()));
  }
  return jobs;
}

json accepted_response(const ParsedPush& push, const std::vector<job::Notification>& jobs) {
  json ids = json::array();
  for (const auto& j : jobs) {
    if (j.job) ids.push_back(j.job->id);
  }
  return {{"accepted",
           {{"notifications", push.notifications.size()},
            {"tokens", push.token_count},
            {"jobs", jobs.size()}}},
          {"job_ids", std::move(ids)}};
}

}  // namespace pushgw::api
