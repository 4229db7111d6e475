#include "pushgw/fcm/message.hpp"

#include "pushgw/job/codec.hpp"

namespace pushgw::fcm {
namespace {

using nlohmann::json;

// FCM's data map is map<string, string>: a non-string value becomes its JSON text.
void stringify_values(json& data) {
  if (!data.is_object()) return;
  for (auto& [key, value] : data.items()) {
    if (!value.is_string()) value = job::dump_compact(value);
  }
}

job::SendOutcome refused(job::OutcomeKind kind, std::string reason) {
  job::SendOutcome outcome;
  outcome.kind = kind;
  outcome.reason = std::move(reason);
  return outcome;
}

}  // namespace

json build_fcm_message(const job::Notification& n, std::string_view target, std::int64_t now_s) {
  json message = json::object();

  json notification = json::object();
  if (n.title) notification["title"] = *n.title;
  if (n.message) notification["body"] = *n.message;
  if (n.image) notification["image"] = *n.image;
  const bool displayed = !notification.empty();
  if (displayed) message["notification"] = std::move(notification);

  if (n.data && n.data->is_object() && !n.data->empty()) {
    message["data"] = *n.data;
    stringify_values(message["data"]);
  }

  json android = json::object();
  if (n.priority) android["priority"] = *n.priority == job::Priority::high ? "HIGH" : "NORMAL";
  if (n.collapse_id) android["collapse_key"] = *n.collapse_id;
  if (n.expiration) {
    const std::int64_t ttl = *n.expiration > now_s ? *n.expiration - now_s : 0;
    android["ttl"] = std::to_string(ttl) + "s";
  }
  if (displayed) {
    json shown = json::object();
    if (n.sound) shown["sound"] = *n.sound;
    if (n.category) shown["click_action"] = *n.category;
    if (n.collapse_id) shown["tag"] = *n.collapse_id;
    if (n.badge) shown["notification_count"] = *n.badge;
    if (!shown.empty()) android["notification"] = std::move(shown);
  }
  if (!android.empty()) message["android"] = std::move(android);

  if (n.fcm && n.fcm->is_object()) {
    message.merge_patch(*n.fcm);
    if (auto data = message.find("data"); data != message.end()) stringify_values(*data);
  }
  // This request goes to the notification's one target; the pass-through cannot redirect it.
  message.erase("token");
  message.erase("topic");
  message.erase("condition");
  message[std::string(target_field(n.target))] = std::string(target);
  return message;
}

std::string_view target_field(job::Target target) {
  switch (target) {
    case job::Target::fcm_topic: return "topic";
    case job::Target::fcm_condition: return "condition";
    default: return "token";
  }
}

std::size_t fcm_payload_limit(const job::Notification& n) {
  return n.target == job::Target::fcm_topic || n.target == job::Target::fcm_condition ? kFcmTopicPayloadLimit
                                                                                       : kFcmPayloadLimit;
}

std::size_t fcm_payload_size(const json& message) {
  std::size_t size = 0;
  const auto add = [&size](const json& object, const char* key) {
    if (const auto it = object.find(key); it != object.end()) size += job::dump_compact(*it).size();
  };
  if (!message.is_object()) return 0;
  add(message, "notification");
  add(message, "data");
  if (const auto android = message.find("android"); android != message.end() && android->is_object()) {
    add(*android, "notification");
    add(*android, "data");
  }
  return size;
}

std::string fcm_send_path(std::string_view project_id) {
  return "/v1/projects/" + std::string(project_id) + "/messages:send";
}

std::variant<FcmRequest, job::SendOutcome> build_fcm_request(const job::Notification& n, std::string_view token,
                                                             std::string_view project_id,
                                                             std::string_view access_token, std::int64_t now_s) {
  if (token.empty()) {
    return refused(job::OutcomeKind::rejected, n.target == job::Target::tokens ? "MissingRegistration" : "MissingTarget");
  }
  FcmRequest request;
  try {
    json body = json::object();
    body["message"] = build_fcm_message(n, token, now_s);
    request.body = job::dump_compact(body);
  } catch (const std::exception&) {
    return refused(job::OutcomeKind::rejected, "InvalidMessage");
  }
  request.path = fcm_send_path(project_id);
  request.headers.emplace_back("authorization", "Bearer " + std::string(access_token));
  request.headers.emplace_back("content-type", "application/json");
  return request;
}

}  // namespace pushgw::fcm
