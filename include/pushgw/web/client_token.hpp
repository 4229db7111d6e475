#pragma once
// Client tokens of live web delivery (DESIGN.md §5 "Live web delivery"): a JWT (compact JWS)
// the backend signs with HS256 under `web.secret` and hands to its page, which sends it on
// GET /events and GET /ws. Claims:
//
//   channels  array of channel names the client may read (required, non-empty)
//   exp       NumericDate, seconds since the epoch (required)
//   sub       string, who the client is, for logs (optional)
//   nbf, iat  NumericDate (optional); a token before its nbf is refused
//
// The header must say alg "HS256" (never "none", never another algorithm: the algorithm is
// ours to pick, not the token's) and typ "JWT" or nothing. Error messages name what is wrong,
// never the secret and never the whole token.

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <boost/system/error_code.hpp>

namespace pushgw::web {

// Longer tokens are refused before any decoding: a URL or header that long is not a client
// token, and the work per request stays bounded.
inline constexpr std::size_t kMaxClientTokenBytes = 8 * 1024;

enum class error {
  too_long = 1,           // over kMaxClientTokenBytes
  malformed,              // not three base64url segments of JSON objects; a header we cannot honour
  unsupported_algorithm,  // alg is not "HS256" (or is missing)
  bad_signature,          // the MAC does not match web.secret
  no_secret,              // web.secret is empty: no token can be trusted
  missing_claim,          // channels or exp absent
  bad_claim,              // a claim of the wrong type or value
  bad_channel,            // a name in channels is not a valid channel name
  expired,                // exp is not after now
  not_yet_valid,          // nbf is after now
};

const boost::system::error_category& error_category();
inline boost::system::error_code make_error_code(error e) { return {static_cast<int>(e), error_category()}; }

struct ClientToken {
  std::vector<std::string> channels;  // valid names, de-duplicated, in the token's order
  std::chrono::system_clock::time_point expires;
  std::string subject;                // "" when the token has no sub
  bool operator==(const ClientToken&) const = default;
};

// A verified token, or why not.
struct TokenCheck {
  std::optional<ClientToken> token;  // set when the token is good
  error code{};                      // otherwise: why not
  std::string message;               // otherwise: what is wrong, for the 401 body and the log

  bool ok() const { return token.has_value(); }
  const ClientToken& value() const { return *token; }
};

// Verifies `token` (the compact JWS, as sent) against `secret` at time `now`.
TokenCheck verify_client_token(std::string_view token, std::string_view secret,
                               std::chrono::system_clock::time_point now);

// A token for `channels` until `expires` (whole seconds, rounded down), with `sub` when
// `subject` is not empty: for tests, the example page's dev helper and tools. Throws
// std::invalid_argument for an empty secret, no channels or an invalid channel name, so a
// token it makes is one verify_client_token accepts until it expires.
std::string mint_client_token(std::string_view secret, const std::vector<std::string>& channels,
                              std::chrono::system_clock::time_point expires, std::string_view subject = {});

}  // namespace pushgw::web

namespace boost::system {
template <>
struct is_error_code_enum<pushgw::web::error> : std::true_type {};
}  // namespace boost::system
