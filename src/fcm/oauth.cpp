#include "pushgw/fcm/oauth.hpp"

#include <algorithm>
#include <array>

#include <nlohmann/json.hpp>

#include "pushgw/common/base64url.hpp"
#include "pushgw/common/quote.hpp"

namespace pushgw::fcm {
namespace {

// RFC 6749 error codes (§5.2, and access_denied from §4.1.2.1): the only
// strings from the body that may become a reason (a metric label).
constexpr std::array<std::string_view, 7> kOAuthErrors = {
    "invalid_request", "invalid_client", "invalid_grant",       "unauthorized_client",
    "unsupported_grant_type", "invalid_scope", "access_denied"};

TokenError make_error(TokenError::Kind kind, std::string reason, std::string detail) {
  TokenError error;
  error.kind = kind;
  error.message = detail.empty() ? reason : reason + ": " + detail;
  error.reason = std::move(reason);
  return error;
}

}  // namespace

std::string make_assertion(const ServiceAccount& account, std::int64_t issued_at_s) {
  nlohmann::json header = {{"alg", "RS256"}, {"typ", "JWT"}};
  if (!account.private_key_id.empty()) header["kid"] = account.private_key_id;
  const nlohmann::json claims = {{"iss", account.client_email},
                                 {"scope", std::string(kFcmScope)},
                                 {"aud", account.token_uri},
                                 {"iat", issued_at_s},
                                 {"exp", issued_at_s + kAssertionLifetimeSeconds}};
  std::string jwt = common::base64url_encode(header.dump());
  jwt += '.';
  jwt += common::base64url_encode(claims.dump());
  const std::string signature = account.key->sign_rs256(jwt);
  jwt += '.';
  jwt += common::base64url_encode(signature);
  return jwt;
}

std::string form_urlencode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    const bool unreserved = (u >= 'A' && u <= 'Z') || (u >= 'a' && u <= 'z') || (u >= '0' && u <= '9') ||
                            c == '-' || c == '.' || c == '_' || c == '~';
    if (unreserved) {
      out += c;
    } else {
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 0x0F];
    }
  }
  return out;
}

std::string token_request_body(std::string_view assertion) {
  return "grant_type=" + form_urlencode(kJwtBearerGrant) + "&assertion=" + form_urlencode(assertion);
}

TokenResponse parse_token_response(int status, std::string_view body) {
  using Kind = TokenError::Kind;
  const nlohmann::json doc = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  const std::string http = "oauth HTTP " + std::to_string(status);

  if (status == 200) {
    if (!doc.is_object()) return make_error(Kind::transient, http, "the token response is not a JSON object");
    const auto token = doc.find("access_token");
    if (token == doc.end() || !token->is_string() || token->get_ref<const std::string&>().empty()) {
      return make_error(Kind::transient, http, "the token response has no access_token");
    }
    const auto expires = doc.find("expires_in");
    std::int64_t seconds = 0;
    if (expires != doc.end() && expires->is_number_integer()) seconds = expires->get<std::int64_t>();
    if (seconds <= 0) return make_error(Kind::transient, http, "the token response has no positive expires_in");
    if (const auto type = doc.find("token_type"); type != doc.end() && type->is_string()) {
      std::string name = type->get<std::string>();
      std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
      if (name != "bearer") return make_error(Kind::transient, http, "token_type is not Bearer");
    }
    AccessToken access;
    access.value = token->get<std::string>();
    access.expires_in = std::chrono::seconds(seconds);
    return access;
  }

  // A 4xx with an OAuth error code is a verdict on our assertion; anything else (429, 5xx,
  // an HTML error page from a proxy) says nothing about our credentials.
  std::string code;
  std::string description;
  if (doc.is_object()) {
    if (const auto it = doc.find("error"); it != doc.end() && it->is_string()) code = it->get<std::string>();
    if (const auto it = doc.find("error_description"); it != doc.end() && it->is_string()) {
      description = common::printable(it->get<std::string>());
    }
  }
  const bool known = std::find(kOAuthErrors.begin(), kOAuthErrors.end(), code) != kOAuthErrors.end();
  // 4xx other than 408/429 includes 404 (token_uri is not a token endpoint): our config.
  const bool verdict = status >= 400 && status < 500 && status != 408 && status != 429;
  if (verdict && known) return make_error(Kind::credentials, code, description);
  std::string detail = code.empty() ? common::printable(body, 80) : common::printable(code, 40);
  if (!description.empty()) detail += (detail.empty() ? "" : ": ") + description;
  return make_error(verdict ? Kind::credentials : Kind::transient, http, detail);
}

}  // namespace pushgw::fcm
