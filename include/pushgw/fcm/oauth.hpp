#pragma once
// OAuth 2.0 for FCM with a service account (Google's "Using OAuth 2.0 for Server to Server
// Applications"), pure logic: the provider does the HTTP/2 exchange (provider.cpp) and the
// caching (token_cache.hpp).
//
//   assertion  RS256 JWT
//              header {"alg":"RS256","typ":"JWT","kid":<private_key_id, when the file has one>}
//              claims {"iss":<client_email>, "scope":kFcmScope, "aud":<token_uri>,
//                      "iat":<unix s>, "exp":iat + 3600}
//   request    POST <token_uri>, content-type application/x-www-form-urlencoded,
//              grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=<JWT>
//   response   200 {"access_token", "expires_in", "token_type": "Bearer"}
//              4xx {"error": "invalid_grant", "error_description": "..."}

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "pushgw/fcm/service_account.hpp"

namespace pushgw::fcm {

inline constexpr std::string_view kFcmScope = "https://www.googleapis.com/auth/firebase.messaging";
inline constexpr std::string_view kJwtBearerGrant = "urn:ietf:params:oauth:grant-type:jwt-bearer";
inline constexpr std::int64_t kAssertionLifetimeSeconds = 3600;  // Google's maximum

// Builds and signs the assertion, issued at `issued_at_s` (unix seconds). Throws
// CredentialsError(signing_failed) only if OpenSSL cannot sign.
std::string make_assertion(const ServiceAccount& account, std::int64_t issued_at_s);

// The application/x-www-form-urlencoded body of the token request.
std::string token_request_body(std::string_view assertion);

// application/x-www-form-urlencoded encoding of one name or value (RFC 3986 unreserved
// characters stay, space and everything else become %XX).
std::string form_urlencode(std::string_view text);

struct AccessToken {
  std::string value;                         // sent as "authorization: Bearer <value>"
  std::chrono::seconds expires_in{0};        // lifetime from when it was issued
};

// Why no access token came back.
struct TokenError {
  enum class Kind {
    credentials,  // the token endpoint refused our assertion (invalid_grant...): every fetch
                  // will fail alike until the service account or the clock is fixed
    transient,    // no answer, 429/5xx, or an unusable answer: worth trying again later
  };
  Kind kind = Kind::transient;
  // A bounded label: the OAuth error code when it is one of RFC 6749's (invalid_grant,
  // invalid_client, ...), "oauth HTTP <status>" otherwise, or "oauth transport error: ...".
  std::string reason;
  // For logs: reason plus the endpoint's error_description (sanitised, shortened). Never a
  // token or a key.
  std::string message;
};

using TokenResponse = std::variant<AccessToken, TokenError>;

// Classifies the token endpoint's HTTP answer.
TokenResponse parse_token_response(int status, std::string_view body);

}  // namespace pushgw::fcm
