#include "pushgw/sim/fcm.hpp"

#include <array>
#include <chrono>
#include <random>
#include <regex>

#include <nlohmann/json.hpp>

#include "pushgw/sim/stats.hpp"

namespace pushgw::sim::fcm {

using nlohmann::json;

namespace {

constexpr Error invalid_argument{400, "INVALID_ARGUMENT", "INVALID_ARGUMENT", ""};
constexpr Error unregistered{404, "NOT_FOUND", "UNREGISTERED", "Requested entity was not found."};
constexpr Error sender_id_mismatch{403, "PERMISSION_DENIED", "SENDER_ID_MISMATCH",
                                   "SenderId mismatch"};
constexpr Error quota_exceeded{429, "RESOURCE_EXHAUSTED", "QUOTA_EXCEEDED",
                               "Quota exceeded for quota metric 'Send requests'."};
constexpr Error unavailable{503, "UNAVAILABLE", "UNAVAILABLE", "The service is currently unavailable."};
constexpr Error internal{500, "INTERNAL", "INTERNAL", "Internal error encountered."};
constexpr Error unauthenticated{401, "UNAUTHENTICATED", "",
                                "Request had invalid authentication credentials. Expected OAuth 2 "
                                "access token, login cookie or other valid authentication "
                                "credential."};
constexpr Error permission_denied{403, "PERMISSION_DENIED", "",
                                  "Permission 'cloudmessaging.messages.create' denied on resource "
                                  "(or it may not exist)."};

constexpr std::array<TokenOutcome, 7> outcomes{{
    {"unregistered-", unregistered, false, false},
    {"invalid-", {400, "INVALID_ARGUMENT", "INVALID_ARGUMENT",
                  "The registration token is not a valid FCM registration token"}, false, false},
    {"senderid-", sender_id_mismatch, false, false},
    {"quota-", quota_exceeded, false, true},
    {"unavailable-", unavailable, false, false},
    {"internal-", internal, false, false},
    {"noanswer-", {}, true, false},
}};

const Error& error_for_status(int status) {
  switch (status) {
    case 400: return invalid_argument;
    case 401: return unauthenticated;
    case 403: return sender_id_mismatch;
    case 404: return unregistered;
    case 429: return quota_exceeded;
    case 503: return unavailable;
    default: return internal;
  }
}

void answer(Response& response, const Error& error, std::string_view message = {}) {
  Error shown = error;
  if (!message.empty()) shown.message = message;
  response.reason = std::string(error.error_code.empty() ? error.rpc_status : error.error_code);
  response.set_json(error.status, error_body(shown));
}

bool is_string_map(const json& value) {
  if (!value.is_object()) return false;
  for (const auto& [key, item] : value.items()) {
    if (!item.is_string()) return false;
  }
  return true;
}

// "3.5s", "86400s": a protobuf Duration in JSON.
bool valid_duration(const std::string& text) {
  if (text.size() < 2 || text.back() != 's') return false;
  std::size_t i = 0, digits = 0, fraction = 0;
  while (i + 1 < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i, ++digits;
  if (i + 1 < text.size() && text[i] == '.') {
    ++i;
    while (i + 1 < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i, ++fraction;
    if (fraction == 0 || fraction > 9) return false;
  }
  return digits > 0 && i + 1 == text.size();
}

std::string message_id() {
  thread_local std::mt19937_64 engine{std::random_device{}()};
  char text[40];
  std::snprintf(text, sizeof text, "0:%016llx", static_cast<unsigned long long>(engine()));
  return text;
}

}  // namespace

std::span<const TokenOutcome> token_outcomes() { return outcomes; }

const TokenOutcome* outcome_for_token(std::string_view token) {
  for (const auto& outcome : outcomes) {
    if (token.substr(0, outcome.prefix.size()) == outcome.prefix) return &outcome;
  }
  return nullptr;
}

std::string error_body(const Error& error) {
  json body = {{"code", error.status}, {"message", error.message}, {"status", error.rpc_status}};
  if (!error.error_code.empty()) {
    body["details"] = json::array({{{"@type", "type.googleapis.com/google.firebase.fcm.v1.FcmError"},
                                    {"errorCode", error.error_code}}});
  }
  return json{{"error", body}}.dump();
}

std::string_view project_of(std::string_view path) {
  if (path.substr(0, path_prefix.size()) != path_prefix) return {};
  path.remove_prefix(path_prefix.size());
  if (path.size() <= path_suffix.size() || path.substr(path.size() - path_suffix.size()) != path_suffix) {
    return {};
  }
  const std::string_view project = path.substr(0, path.size() - path_suffix.size());
  return project.find('/') == std::string_view::npos ? project : std::string_view{};
}

constexpr std::size_t kMaxPayloadBytes = 4096;
constexpr std::size_t kMaxTopicPayloadBytes = 2048;  // topic messages (topics and conditions)
constexpr std::size_t kMaxConditionTopics = 5;

namespace {

// FCM's topic names: [a-zA-Z0-9-_.~%]{1,900}, and v1 wants them without "/topics/".
std::string topic_problem(const std::string& topic) {
  static const std::regex kTopic("[a-zA-Z0-9_.~%-]{1,900}");
  if (std::regex_match(topic, kTopic)) return {};
  return "Invalid value at 'message.topic' (" + topic.substr(0, 64) + "): a topic name matches [a-zA-Z0-9-_.~%]{1,900}" +
         (topic.rfind("/topics/", 0) == 0 ? ", without the /topics/ prefix." : ".");
}

// A condition: each "'name' in topics" is one operand; what is left must be operands joined by
// && and ||, negated by !, grouped by parentheses, with at most five operands.
std::string condition_problem(const std::string& condition) {
  static const std::regex kOperand("'([^']*)'\\s+in\\s+topics");
  std::string shape;
  std::size_t operands = 0;
  auto last = condition.cbegin();
  for (std::sregex_iterator it(condition.begin(), condition.end(), kOperand), end; it != end; ++it) {
    shape.append(last, (*it)[0].first);
    shape += 'T';
    if (!topic_problem((*it)[1].str()).empty()) return "Invalid topic in 'message.condition': " + (*it)[1].str();
    ++operands;
    last = (*it)[0].second;
  }
  shape.append(last, condition.cend());
  std::erase_if(shape, [](char c) { return c == ' ' || c == '\t'; });
  const std::string invalid = "Invalid condition expression provided in 'message.condition'.";
  if (operands == 0) return invalid;
  if (operands > kMaxConditionTopics) return "Too many topics in 'message.condition' (at most 5).";
  bool want_operand = true;  // at the start, after an operator, '!' or '('
  int depth = 0;
  for (std::size_t i = 0; i < shape.size(); ++i) {
    const char c = shape[i];
    if (want_operand) {
      if (c == 'T') want_operand = false;
      else if (c == '(') ++depth;
      else if (c != '!') return invalid;
    } else if (c == ')') {
      if (--depth < 0) return invalid;
    } else if ((c == '&' || c == '|') && i + 1 < shape.size() && shape[i + 1] == c) {
      ++i;
      want_operand = true;
    } else {
      return invalid;
    }
  }
  return want_operand || depth != 0 ? invalid : std::string();
}

}  // namespace

std::string check_message(std::string_view body, std::string* target) {
  const json doc = json::parse(body, nullptr, false);
  if (!doc.is_object()) return "Invalid JSON payload received: the body must be a JSON object.";
  const auto message = doc.find("message");
  if (message == doc.end() || !message->is_object()) {
    return "Invalid JSON payload received: \"message\" must be an object.";
  }
  for (const auto& [key, value] : doc.items()) {
    if (key != "message" && key != "validate_only") {
      return "Invalid JSON payload received. Unknown name \"" + key + "\": Cannot find field.";
    }
  }
  static constexpr std::array<std::string_view, 10> known{
      "name", "data", "notification", "android", "webpush", "apns", "fcm_options",
      "token", "topic", "condition"};
  int targets = 0;
  for (const auto& [key, value] : message->items()) {
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      return "Invalid JSON payload received. Unknown name \"" + key + "\" at 'message': Cannot find field.";
    }
    if (key == "token" || key == "topic" || key == "condition") {
      if (!value.is_string() || value.get<std::string>().empty()) {
        return "message." + key + " must be a non-empty string.";
      }
      ++targets;
      *target = value.get<std::string>();
    }
  }
  if (targets != 1) return "Exactly one of message.token, message.topic or message.condition must be set.";
  if (const auto topic = message->find("topic"); topic != message->end()) {
    if (auto problem = topic_problem(topic->get<std::string>()); !problem.empty()) return problem;
  }
  if (const auto condition = message->find("condition"); condition != message->end()) {
    if (auto problem = condition_problem(condition->get<std::string>()); !problem.empty()) return problem;
  }
  if (const auto data = message->find("data"); data != message->end() && !is_string_map(*data)) {
    return "Invalid value at 'message.data': every value must be a string.";
  }
  if (const auto notification = message->find("notification");
      notification != message->end() && !notification->is_object()) {
    return "Invalid value at 'message.notification': must be an object.";
  }
  if (const auto android = message->find("android"); android != message->end()) {
    if (!android->is_object()) return "Invalid value at 'message.android': must be an object.";
    if (const auto priority = android->find("priority"); priority != android->end()) {
      std::string text = priority->is_string() ? priority->get<std::string>() : "";
      for (auto& c : text) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      if (text != "NORMAL" && text != "HIGH") {
        return "Invalid value at 'message.android.priority': " + priority->dump();
      }
    }
    if (const auto ttl = android->find("ttl"); ttl != android->end()) {
      if (!ttl->is_string() || !valid_duration(ttl->get<std::string>())) {
        return "Invalid value at 'message.android.ttl': " + ttl->dump() +
               " (a duration such as \"3600s\")";
      }
    }
    if (const auto data = android->find("data"); data != android->end() && !is_string_map(*data)) {
      return "Invalid value at 'message.android.data': every value must be a string.";
    }
  }
  // FCM's 4 KB limit on what reaches the device: the notification and data blocks, the
  // message's own and its android block's (counted here independently of pushgw's code).
  std::size_t carried = 0;
  for (const json* block : {&*message, message->contains("android") ? &(*message)["android"] : nullptr}) {
    if (block == nullptr || !block->is_object()) continue;
    for (const char* part : {"notification", "data"}) {
      if (block->contains(part)) carried += (*block)[part].dump(-1, ' ', false, json::error_handler_t::replace).size();
    }
  }
  const std::size_t limit = message->contains("token") ? kMaxPayloadBytes : kMaxTopicPayloadBytes;
  if (carried > limit) {
    return "Message is too big: its notification and data are " + std::to_string(carried) + " bytes, over " +
           std::to_string(limit) + ".";
  }
  if (const auto apns = message->find("apns"); apns != message->end()) {
    if (!apns->is_object()) return "Invalid value at 'message.apns': must be an object.";
    if (const auto headers = apns->find("headers"); headers != apns->end() && !is_string_map(*headers)) {
      return "Invalid value at 'message.apns.headers': every value must be a string.";
    }
    if (const auto payload = apns->find("payload"); payload != apns->end() && !payload->is_object()) {
      return "Invalid value at 'message.apns.payload': must be an object.";
    }
  }
  return {};
}

void Service::handle(const Request& request, Response& response, ConnectionContext& context,
                     std::int64_t now) const {
  const std::string_view project = project_of(request.path());
  if (project.empty()) {
    response.reason = "BadPath";
    response.set_json(404, error_body({404, "NOT_FOUND", "", "The requested URL was not found."}));
    return;
  }
  const std::string_view authorization = request.header("authorization");
  constexpr std::string_view bearer = "bearer ";
  bool authenticated = authorization.size() > bearer.size();
  for (std::size_t i = 0; authenticated && i < bearer.size(); ++i) {
    authenticated = std::tolower(static_cast<unsigned char>(authorization[i])) == bearer[i];
  }
  if (!authenticated || !issuer_.valid_access_token(authorization.substr(bearer.size()), now)) {
    answer(response, unauthenticated);
    return;
  }
  context.authorized = true;
  if (project != issuer_.account().project_id) {
    answer(response, permission_denied);
    return;
  }
  std::string target;
  if (const std::string problem = check_message(request.body(), &target); !problem.empty()) {
    answer(response, invalid_argument, problem);
    return;
  }

  if (const int forced = behaviour_.force_status(); forced != 0) {
    if (forced != 200) {
      Error error = error_for_status(forced);
      error.status = forced;
      const std::string reason = behaviour_.force_reason();
      if (!reason.empty()) error.error_code = reason;
      answer(response, error);
      return;
    }
  } else {
    if (const double rate = behaviour_.error_rate(); rate > 0.0) {
      thread_local std::mt19937_64 engine{std::random_device{}()};
      if (std::uniform_real_distribution<double>(0.0, 1.0)(engine) < rate) {
        answer(response, unavailable);
        return;
      }
    }
    if (const TokenOutcome* outcome = outcome_for_token(target)) {
      if (outcome->no_answer) {
        response.no_answer = true;
        return;
      }
      answer(response, outcome->error);
      if (outcome->retry_after) response.headers.emplace_back("retry-after", "1");
      return;
    }
  }
  response.delivered = true;
  response.delivery_key = delivery_key(target, request.body());
  response.enqueued_ms = bench_enqueued_ms(request.body());
  response.set_json(200, json{{"name", "projects/" + std::string(project) + "/messages/" +
                                           message_id()}}
                             .dump());
}

void Service::add_routes(Router& router) const {
  router.add(Route{
      .method = "POST",
      .path = std::string(path_prefix),
      .prefix = true,
      .counted = true,
      .http1 = false,
      .handler = [this](const Request& request, Response& response, ConnectionContext& context) {
        const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
        handle(request, response, context, now);
      },
  });
}

}  // namespace pushgw::sim::fcm
