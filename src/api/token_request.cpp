#include "pushgw/api/token_request.hpp"

#include <optional>

#include "pushgw/common/quote.hpp"
#include "pushgw/common/url.hpp"

namespace pushgw::api {

using common::percent_decode;

std::optional<std::string> query_parameter(std::string_view target, std::string_view name) {
  const auto question = target.find('?');
  if (question == std::string_view::npos) return std::nullopt;
  std::string_view query = target.substr(question + 1);
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    const auto equals = pair.find('=');
    if (pair.substr(0, equals) != name) continue;
    return percent_decode(equals == std::string_view::npos ? std::string_view() : pair.substr(equals + 1), true);
  }
  return std::nullopt;
}

std::variant<TokenRequest, ApiError> parse_token_request(std::string_view target, const job::ValidationContext& ctx) {
  std::string_view path = target.substr(0, target.find('?'));
  if (path.substr(0, kTokensRoute.size()) != kTokensRoute) {
    return ApiError{404, "no route for " + common::quote(path), ""};
  }
  path.remove_prefix(kTokensRoute.size());
  const auto slash = path.find('/');
  if (slash == std::string_view::npos || slash + 1 == path.size()) {
    return ApiError{404, "expected /tokens/{platform}/{token}, got " + common::quote(target.substr(0, target.find('?'))), ""};
  }
  const std::string_view platform_name = path.substr(0, slash);
  const auto token = percent_decode(path.substr(slash + 1), false);
  if (!token) return ApiError{400, "the token is not valid percent-encoding", "token"};

  TokenRequest request;
  if (platform_name == "ios") {
    request.platform = job::Platform::ios;
  } else if (platform_name == "android") {
    request.platform = job::Platform::android;
  } else {
    return ApiError{404, "unknown platform " + common::quote(platform_name) + "; expected ios or android", "platform"};
  }

  const auto app = query_parameter(target, "app");
  if (app) {
    if (!ctx.apps.contains(*app)) return ApiError{404, "unknown app " + common::quote(*app), "app"};
    request.app = *app;
  } else if (ctx.apps.size() == 1) {
    request.app = ctx.apps.begin()->first;
  } else {
    return ApiError{400, "the app parameter is required: several apps are configured", "app"};
  }
  const auto& providers = ctx.apps.find(request.app)->second;
  const bool ios = request.platform == job::Platform::ios;
  if (!(ios ? providers.apns : providers.fcm)) {
    return ApiError{404, "app " + common::quote(request.app) + " has no " + (ios ? "apns" : "fcm") + " configured", "platform"};
  }

  if (auto problem = ios ? job::check_apns_token(*token) : job::check_fcm_token(*token)) {
    return ApiError{400, *problem, "token"};
  }
  request.token = *token;
  return request;
}

}  // namespace pushgw::api
