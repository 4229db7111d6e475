#pragma once
// The simulated APNs service: POST /3/device/<token>, checked as APNs checks it, answered as
// APNs answers. Device tokens whose first four hex digits appear in token_outcomes() get a
// chosen error (or no answer at all); other valid tokens are delivered. See docs/simulator.md.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "pushgw/sim/behaviour.hpp"
#include "pushgw/sim/provider_token.hpp"
#include "pushgw/sim/request.hpp"
#include "pushgw/sim/router.hpp"

namespace pushgw::sim::apns {

inline constexpr std::string_view path_prefix = "/3/device/";
inline constexpr std::size_t max_payload = 4096;
inline constexpr std::size_t max_voip_payload = 5120;
inline constexpr std::size_t max_collapse_id = 64;

struct TokenOutcome {
  std::string_view prefix;       // first hex digits of the device token
  int status = 200;
  std::string_view reason;
  bool no_answer = false;        // the stream is never answered
  bool retry_after = false;      // a Retry-After header comes with it
};
std::span<const TokenOutcome> token_outcomes();
const TokenOutcome* outcome_for_token(std::string_view token);

// 64 to 200 hex digits, an even number of them.
bool valid_device_token(std::string_view token);
bool valid_push_type(std::string_view push_type);
bool valid_uuid(std::string_view text);   // 8-4-4-4-12 hex digits
// The push type's rules: apns-topic with its suffix (voip ".voip", liveactivity
// ".push-type.liveactivity", widgets ".push-type.widgets", ...; mdm a com.apple.mgmt. topic) else
// "TopicDisallowed"; an apns-priority it takes (background 5, pushtotalk 10, liveactivity,
// location and complication 10 or 5) else "BadPriority". "" when the request fits.
std::string_view push_type_problem(std::string_view push_type, std::string_view topic, std::string_view priority);
// What ActivityKit needs of a Live Activity payload (aps.event start|update|end, timestamp,
// content-state, attributes-type, attributes and alert to start, dismissal-date only to end);
// a broadcast cannot start one. "" when the payload fits, else what is wrong.
std::string_view live_activity_problem(const nlohmann::json& payload, bool broadcast);
std::string make_uuid();                  // a random (version 4) UUID, lower case

struct Verdict {
  int status = 200;
  std::string_view reason;       // empty when the request is acceptable
  bool authorized = false;       // the provider token was valid (or auth is off)
};

// Checks one request as APNs does, in this order: device token present, provider token,
// device token format, duplicate apns-* headers, apns-topic, apns-push-type, apns-priority,
// apns-expiration, apns-collapse-id, apns-id, payload size, payload shape. `verifier` null
// or `skip_auth` skips the provider-token check. `now` is unix seconds.
Verdict check_request(const Request& request, const ProviderTokenVerifier* verifier,
                      bool skip_auth, std::int64_t now);

class Service {
 public:
  Service(const ProviderTokenVerifier* verifier, const Behaviour& behaviour)
      : verifier_(verifier), behaviour_(behaviour) {}

  // Checks, applies the behaviour (forced status, error rate) and the token outcomes, and
  // writes the APNs response.
  void handle(const Request& request, Response& response, ConnectionContext& context) const;
  void add_routes(Router& router) const;

 private:
  const ProviderTokenVerifier* verifier_;
  const Behaviour& behaviour_;
};

}  // namespace pushgw::sim::apns
