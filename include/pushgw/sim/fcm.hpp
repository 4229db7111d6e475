#pragma once
// The simulated FCM HTTP v1 service: POST /v1/projects/<project>/messages:send with a bearer
// token from the simulated OAuth endpoint, checked and answered as FCM does. Registration
// tokens starting with a prefix from token_outcomes() get a chosen error (or no answer);
// other messages are delivered. See docs/simulator.md.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "pushgw/sim/behaviour.hpp"
#include "pushgw/sim/oauth.hpp"
#include "pushgw/sim/request.hpp"
#include "pushgw/sim/router.hpp"

namespace pushgw::sim::fcm {

inline constexpr std::string_view path_prefix = "/v1/projects/";
inline constexpr std::string_view path_suffix = "/messages:send";

// One FCM error: HTTP status, google.rpc status, and the FcmError errorCode ("" = none).
struct Error {
  int status = 0;
  std::string_view rpc_status;
  std::string_view error_code;
  std::string_view message;
};

struct TokenOutcome {
  std::string_view prefix;  // start of the registration token
  Error error;
  bool no_answer = false;
  bool retry_after = false;
};
std::span<const TokenOutcome> token_outcomes();
const TokenOutcome* outcome_for_token(std::string_view token);

// The FCM error body {"error": {"code", "message", "status", "details": [FcmError]}}.
std::string error_body(const Error& error);

// The project of a messages:send path, or "" when the path is not one.
std::string_view project_of(std::string_view path);

// Checks the JSON body of a send request: a "message" object with known fields, exactly one
// of token/topic/condition, string-valued data, valid android priority and ttl. Returns ""
// when acceptable, else what is wrong (FCM's INVALID_ARGUMENT message); sets *target.
std::string check_message(std::string_view body, std::string* target);

class Service {
 public:
  Service(const oauth::TokenIssuer& issuer, const Behaviour& behaviour)
      : issuer_(issuer), behaviour_(behaviour) {}

  void handle(const Request& request, Response& response, ConnectionContext& context,
              std::int64_t now) const;
  void add_routes(Router& router) const;

 private:
  const oauth::TokenIssuer& issuer_;
  const Behaviour& behaviour_;
};

}  // namespace pushgw::sim::fcm
