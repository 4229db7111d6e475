#pragma once
// The token registry API's requests (DESIGN.md §5 "Feedback"):
//
//   GET    /tokens/{platform}/{token}?app=A   → 200 {"active": true}
//                                               or {"active": false, "reason", "at"}
//   DELETE /tokens/{platform}/{token}?app=A   → 204: the token is active again
//
// `app` may be left out when exactly one app is configured, as in /push. An unknown platform
// or app, or an app without a provider for the platform, is 404; a malformed token 400.

#include <string>
#include <string_view>
#include <variant>

#include "pushgw/api/push_request.hpp"
#include "pushgw/job/notification.hpp"
#include "pushgw/job/validate.hpp"

namespace pushgw::api {

inline constexpr std::string_view kTokensRoute = "/tokens/";

struct TokenRequest {
  std::string app;
  job::Platform platform = job::Platform::ios;
  std::string token;
  bool operator==(const TokenRequest&) const = default;
};

// `target` as sent (path and query). Query values are percent-decoded.
std::variant<TokenRequest, ApiError> parse_token_request(std::string_view target, const job::ValidationContext& ctx);

// The value of query parameter `name` in `target`, percent-decoded (a '+' is a space);
// nullopt when absent or not valid percent-encoding.
std::optional<std::string> query_parameter(std::string_view target, std::string_view name);

}  // namespace pushgw::api
