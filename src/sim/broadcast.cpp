#include "pushgw/sim/broadcast.hpp"

#include <array>
#include <chrono>
#include <random>

#include <nlohmann/json.hpp>

#include "pushgw/sim/apns.hpp"
#include "pushgw/sim/stats.hpp"

namespace pushgw::sim::broadcast {

using nlohmann::json;

namespace {

std::string random_channel_id() {
  thread_local std::mt19937_64 engine{std::random_device{}()};
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  // 18 random bytes: 24 base64 characters, no padding needed.
  std::string id;
  for (int group = 0; group < 6; ++group) {
    const std::uint64_t bits = engine();
    for (int i = 0; i < 4; ++i) id += kAlphabet[(bits >> (6 * i)) & 63];
  }
  return id;
}

bool is_base64(std::string_view text) {
  if (text.empty() || text.size() % 4 != 0) return false;
  const auto padding = text.find('=');
  if (padding != std::string_view::npos && padding < text.size() - 2) return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
                    c == '/' || (c == '=' && i >= padding);
    if (!ok) return false;
  }
  return true;
}

void answer(Response& response, int status, std::string_view reason, std::string_view request_id) {
  response.reason = std::string(reason);
  response.headers.emplace_back("apns-request-id", std::string(request_id));
  response.set_json(status, json{{"reason", reason}}.dump());
}

// "<bundle>" and what follows it in a path under `prefix`.
std::pair<std::string_view, std::string_view> split_path(std::string_view path, std::string_view prefix) {
  path.remove_prefix(prefix.size());
  const auto slash = path.find('/');
  if (slash == std::string_view::npos) return {path, {}};
  return {path.substr(0, slash), path.substr(slash)};
}

bool has_push_type_suffix(std::string_view bundle) {
  return bundle.size() >= 23 && bundle.substr(bundle.size() - 23) == ".push-type.liveactivity";
}

}  // namespace

std::optional<std::string> Channels::create(std::string_view bundle, int storage_policy) {
  const std::lock_guard lock(mutex_);
  auto& channels = apps_[std::string(bundle)];
  if (channels.size() >= max_channels) return std::nullopt;
  std::string id = random_channel_id();
  channels.emplace(id, storage_policy);
  return id;
}

std::optional<int> Channels::storage_policy(std::string_view bundle, std::string_view id) const {
  const std::lock_guard lock(mutex_);
  const auto app = apps_.find(bundle);
  if (app == apps_.end()) return std::nullopt;
  const auto channel = app->second.find(std::string(id));
  if (channel == app->second.end()) return std::nullopt;
  return channel->second;
}

bool Channels::erase(std::string_view bundle, std::string_view id) {
  const std::lock_guard lock(mutex_);
  const auto app = apps_.find(bundle);
  return app != apps_.end() && app->second.erase(std::string(id)) > 0;
}

std::vector<std::string> Channels::list(std::string_view bundle) const {
  const std::lock_guard lock(mutex_);
  std::vector<std::string> ids;
  if (const auto app = apps_.find(bundle); app != apps_.end()) {
    for (const auto& [id, policy] : app->second) ids.push_back(id);
  }
  return ids;
}

std::string_view check_broadcast_headers(const Request& request, std::optional<int> storage_policy) {
  const std::string_view channel = request.header("apns-channel-id");
  if (channel.empty()) return "MissingChannelId";
  if (!is_base64(channel)) return "BadChannelId";
  if (!storage_policy) return "ChannelNotRegistered";
  if (!request.has_header("apns-push-type")) return "MissingPushType";
  std::string push_type(request.header("apns-push-type"));
  for (auto& c : push_type) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (push_type != "liveactivity") return "InvalidPushType";
  const std::string_view priority = request.header("apns-priority");
  if (priority != "10" && priority != "5" && priority != "1") return "BadPriority";
  const std::string_view expiration = request.header("apns-expiration");
  if (expiration.empty() || expiration.size() > 19 ||
      expiration.find_first_not_of("0123456789") != std::string_view::npos) {
    return "BadExpirationDate";
  }
  // A channel that stores nothing takes only "deliver now": expiration 0.
  if (*storage_policy == 0 && expiration.find_first_not_of('0') != std::string_view::npos) return "BadExpirationDate";
  return "";
}

bool Service::authorized(const Request& request, Response& response, ConnectionContext& context) const {
  if (verifier_ && !behaviour_.no_auth()) {
    const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    const TokenVerdict verdict = verifier_->check(request.header("authorization"), now);
    if (verdict != TokenVerdict::valid) {
      answer(response, 403, reason_of(verdict), apns::make_uuid());
      return false;
    }
  }
  context.authorized = true;
  return true;
}

void Service::manage(const Request& request, Response& response, ConnectionContext& context) const {
  const std::string request_id =
      apns::valid_uuid(request.header("apns-request-id")) ? std::string(request.header("apns-request-id")) : apns::make_uuid();
  const auto [bundle, rest] = split_path(request.path(), channels_prefix);
  const bool one = rest == "/channels";
  if (bundle.empty() || (!one && rest != "/all-channels")) return answer(response, 404, "BadPath", request_id);
  if (!authorized(request, response, context)) return;
  if (has_push_type_suffix(bundle)) return answer(response, 400, "TopicDisallowed", request_id);
  const std::string_view method = request.method();

  if (!one) {
    if (method != "GET") return answer(response, 405, "MethodNotAllowed", request_id);
    response.headers.emplace_back("apns-request-id", request_id);
    response.set_json(200, json{{"channels", channels_.list(bundle)}}.dump());
    return;
  }
  if (method == "POST") {
    const json body = json::parse(request.body(), nullptr, false);
    if (!body.is_object()) return answer(response, 400, "BadRequestPayload", request_id);
    for (const auto& [key, value] : body.items()) {
      if (key != "message-storage-policy" && key != "push-type") return answer(response, 400, "BadRequestParams", request_id);
    }
    const auto policy = body.find("message-storage-policy");
    if (policy == body.end() || !policy->is_number_integer() || (*policy != 0 && *policy != 1)) {
      return answer(response, 400, "BadRequestParams", request_id);
    }
    const auto push_type = body.find("push-type");
    if (push_type == body.end() || *push_type != "LiveActivity") return answer(response, 400, "InvalidPushType", request_id);
    const auto id = channels_.create(bundle, policy->get<int>());
    if (!id) return answer(response, 400, "CannotCreateChannelConfig", request_id);
    response.status = 201;
    response.headers.emplace_back("apns-request-id", request_id);
    response.headers.emplace_back("apns-channel-id", *id);
    return;
  }
  const std::string_view channel = request.header("apns-channel-id");
  if (channel.empty()) return answer(response, 400, "MissingChannelId", request_id);
  if (!is_base64(channel)) return answer(response, 400, "BadChannelId", request_id);
  const auto policy = channels_.storage_policy(bundle, channel);
  if (!policy) return answer(response, 400, "ChannelNotRegistered", request_id);
  if (method == "GET") {
    response.headers.emplace_back("apns-request-id", request_id);
    response.set_json(200, json{{"message-storage-policy", *policy}, {"push-type", "LiveActivity"}}.dump());
  } else if (method == "DELETE") {
    channels_.erase(bundle, channel);
    response.status = 204;
    response.headers.emplace_back("apns-request-id", request_id);
  } else {
    answer(response, 405, "MethodNotAllowed", request_id);
  }
}

void Service::send(const Request& request, Response& response, ConnectionContext& context) const {
  const std::string request_id =
      apns::valid_uuid(request.header("apns-request-id")) ? std::string(request.header("apns-request-id")) : apns::make_uuid();
  const auto [bundle, rest] = split_path(request.path(), broadcast_prefix);
  if (bundle.empty() || !rest.empty()) return answer(response, 404, "BadPath", request_id);
  if (!authorized(request, response, context)) return;
  if (has_push_type_suffix(bundle)) return answer(response, 400, "TopicDisallowed", request_id);
  const std::string_view channel = request.header("apns-channel-id");
  const auto reason = check_broadcast_headers(request, channels_.storage_policy(bundle, channel));
  if (!reason.empty()) return answer(response, 400, reason, request_id);
  if (request.body_size() == 0) return answer(response, 400, "PayloadEmpty", request_id);
  if (request.body_size() > max_payload) return answer(response, 413, "PayloadTooLarge", request_id);
  const json payload = json::parse(request.body(), nullptr, false);
  if (!payload.is_object() || !apns::live_activity_problem(payload, true).empty()) {
    return answer(response, 400, "BadRequestPayload", request_id);
  }
  if (const int forced = behaviour_.force_status(); forced != 0 && forced != 200) {
    const std::string forced_reason = behaviour_.force_reason();
    return answer(response, forced, forced_reason.empty() ? "InternalServerError" : forced_reason, request_id);
  }
  response.status = 200;
  response.headers.emplace_back("apns-request-id", request_id);
  response.headers.emplace_back("apns-unique-id", apns::make_uuid());
  response.delivered = true;
  response.delivery_key = delivery_key(channel, request.body());
}

void Service::add_routes(Router& router) const {
  const auto route = [](std::string method, std::string_view prefix, Handler handler) {
    return Route{.method = std::move(method),
                 .path = std::string(prefix),
                 .prefix = true,
                 .counted = true,
                 .http1 = false,
                 .handler = std::move(handler)};
  };
  for (const char* method : {"GET", "POST", "DELETE"}) {
    router.add(route(method, channels_prefix, [this](const Request& request, Response& response, ConnectionContext& context) {
      manage(request, response, context);
    }));
  }
  router.add(route("POST", broadcast_prefix, [this](const Request& request, Response& response, ConnectionContext& context) {
    send(request, response, context);
  }));
}

}  // namespace pushgw::sim::broadcast
