#include "pushgw/web/client_token.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <unordered_set>

#include <nlohmann/json.hpp>
#include <openssl/crypto.h>

#include "pushgw/common/base64url.hpp"
#include "pushgw/common/error_category.hpp"
#include "pushgw/common/hmac.hpp"
#include "pushgw/common/quote.hpp"
#include "pushgw/web/channel.hpp"

namespace pushgw::web {

namespace {

using nlohmann::json;
using SystemClock = std::chrono::system_clock;

const char* describe(error e) {
  switch (e) {
    case error::too_long: return "client token is too long";
    case error::malformed: return "client token is not a well-formed JWT";
    case error::unsupported_algorithm: return "client token algorithm is not HS256";
    case error::bad_signature: return "client token signature does not match";
    case error::no_secret: return "no secret to verify client tokens with";
    case error::missing_claim: return "client token lacks a required claim";
    case error::bad_claim: return "client token has a claim of the wrong type or value";
    case error::bad_channel: return "client token names an invalid channel";
    case error::expired: return "client token expired";
    case error::not_yet_valid: return "client token is not valid yet";
  }
  return nullptr;
}

// The latest expiry kept: later ones (exp up to 1e308 is a valid NumericDate) would overflow
// system_clock's nanoseconds. 2200-01-01T00:00:00Z.
constexpr double kLatestExpiry = 7258118400.0;

TokenCheck refuse(error code, std::string message) {
  TokenCheck check;
  check.code = code;
  check.message = std::move(message);
  return check;
}

// A JSON object from one base64url segment; nullopt when it is not one.
std::optional<json> decode_object(std::string_view segment) {
  const auto text = common::base64url_decode(segment);
  if (!text) return std::nullopt;
  json j = json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return std::nullopt;  // a parse error is discarded(), not an object
  return j;
}

double seconds_since_epoch(SystemClock::time_point t) {
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}

// A NumericDate as text for messages: whole seconds when it is one.
std::string numeric_date(double seconds) {
  json j = seconds;
  if (std::floor(seconds) == seconds && std::fabs(seconds) < 1e15) j = static_cast<std::int64_t>(seconds);
  return j.dump();
}

}  // namespace

const boost::system::error_category& error_category() { return common::category_of<error>("pushgw.web", describe); }

TokenCheck verify_client_token(std::string_view token, std::string_view secret, SystemClock::time_point now) {
  if (token.size() > kMaxClientTokenBytes) {
    return refuse(error::too_long, "client token is " + std::to_string(token.size()) + " bytes, over the limit of " +
                                       std::to_string(kMaxClientTokenBytes));
  }
  if (secret.empty()) return refuse(error::no_secret, "web.secret is empty: no client token can be verified");

  // header.payload.signature, each base64url.
  const auto first_dot = token.find('.');
  const auto second_dot = first_dot == std::string_view::npos ? first_dot : token.find('.', first_dot + 1);
  if (second_dot == std::string_view::npos || token.find('.', second_dot + 1) != std::string_view::npos) {
    const auto segments = static_cast<std::size_t>(std::count(token.begin(), token.end(), '.')) + 1;
    return refuse(error::malformed, "client token is not a JWT: expected 3 dot-separated segments, got " +
                                        std::to_string(segments));
  }
  const std::string_view header_segment = token.substr(0, first_dot);
  const std::string_view payload_segment = token.substr(first_dot + 1, second_dot - first_dot - 1);
  const std::string_view signature_segment = token.substr(second_dot + 1);

  const auto header = decode_object(header_segment);
  if (!header) return refuse(error::malformed, "client token header is not base64url of a JSON object");
  const auto alg = header->find("alg");
  if (alg == header->end()) {
    return refuse(error::unsupported_algorithm, "client token header has no alg (expected HS256)");
  }
  if (!alg->is_string() || alg->get_ref<const std::string&>() != "HS256") {
    const std::string shown = alg->is_string() ? common::quote(alg->get_ref<const std::string&>(), 32)
                                               : std::string("of type ") + alg->type_name();
    return refuse(error::unsupported_algorithm, "client token alg " + shown + " is not accepted (expected HS256)");
  }
  if (const auto typ = header->find("typ");
      typ != header->end() && !(typ->is_string() && typ->get_ref<const std::string&>() == "JWT")) {
    return refuse(error::malformed, "client token header typ must be \"JWT\" or absent");
  }
  // RFC 7515 §4.1.11: an extension the verifier does not understand must be refused.
  if (header->contains("crit")) {
    return refuse(error::malformed, "client token header has crit: no extension is supported");
  }

  // The MAC covers the segments as sent, before anything in the payload is believed.
  const auto signature = common::base64url_decode(signature_segment);
  if (!signature) return refuse(error::malformed, "client token signature is not base64url");
  const std::string expected = common::hmac_sha256(secret, token.substr(0, second_dot));
  if (expected.size() != common::kHmacSha256Bytes || signature->size() != expected.size() ||
      CRYPTO_memcmp(signature->data(), expected.data(), expected.size()) != 0) {
    return refuse(error::bad_signature, "client token signature does not match web.secret");
  }

  const auto claims = decode_object(payload_segment);
  if (!claims) return refuse(error::malformed, "client token payload is not base64url of a JSON object");

  ClientToken out;
  const auto channels = claims->find("channels");
  if (channels == claims->end()) return refuse(error::missing_claim, "client token has no channels claim");
  if (!channels->is_array()) return refuse(error::bad_claim, "client token channels must be an array of channel names");
  if (channels->empty()) return refuse(error::bad_claim, "client token channels is empty: it grants no channel");
  std::unordered_set<std::string_view> seen;  // a long list stays linear
  for (std::size_t i = 0; i < channels->size(); ++i) {
    const json& name = (*channels)[i];
    const std::string where = "client token channels[" + std::to_string(i) + "]";
    if (!name.is_string()) return refuse(error::bad_channel, where + " is not a string");
    const auto& text = name.get_ref<const std::string&>();
    if (!is_valid_channel(text)) {
      return refuse(error::bad_channel, where + " " + common::quote(text) + " is not a valid channel name (" +
                                            std::string(kChannelRule) + ")");
    }
    if (seen.insert(text).second) out.channels.push_back(text);
  }

  const auto exp = claims->find("exp");
  if (exp == claims->end()) return refuse(error::missing_claim, "client token has no exp claim");
  if (!exp->is_number()) return refuse(error::bad_claim, "client token exp must be a number (seconds since the epoch)");
  for (const char* name : {"nbf", "iat"}) {
    const auto claim = claims->find(name);
    if (claim != claims->end() && !claim->is_number()) {
      return refuse(error::bad_claim,
                    std::string("client token ") + name + " must be a number (seconds since the epoch)");
    }
  }
  if (const auto sub = claims->find("sub"); sub != claims->end()) {
    if (!sub->is_string()) return refuse(error::bad_claim, "client token sub must be a string");
    out.subject = sub->get<std::string>();
  }

  const double now_s = seconds_since_epoch(now);
  const double exp_s = exp->get<double>();
  if (!(exp_s > now_s)) {
    return refuse(error::expired, "client token expired (exp " + numeric_date(exp_s) + ", now " +
                                      numeric_date(std::floor(now_s)) + ")");
  }
  if (const auto nbf = claims->find("nbf"); nbf != claims->end() && nbf->get<double>() > now_s) {
    return refuse(error::not_yet_valid, "client token is not valid yet (nbf " + numeric_date(nbf->get<double>()) +
                                            ", now " + numeric_date(std::floor(now_s)) + ")");
  }
  out.expires = SystemClock::time_point(std::chrono::duration_cast<SystemClock::duration>(
      std::chrono::duration<double>(std::min(exp_s, kLatestExpiry))));

  TokenCheck check;
  check.token = std::move(out);
  return check;
}

std::string mint_client_token(std::string_view secret, const std::vector<std::string>& channels,
                              SystemClock::time_point expires, std::string_view subject) {
  if (secret.empty()) throw std::invalid_argument("mint_client_token: the secret is empty");
  if (channels.empty()) throw std::invalid_argument("mint_client_token: no channels");
  for (const auto& name : channels) {
    if (!is_valid_channel(name)) {
      throw std::invalid_argument("mint_client_token: " + common::quote(name) + " is not a valid channel name (" +
                                  std::string(kChannelRule) + ")");
    }
  }
  json claims = {{"channels", channels},
                 {"exp", std::chrono::floor<std::chrono::seconds>(expires.time_since_epoch()).count()}};
  if (!subject.empty()) claims["sub"] = std::string(subject);
  const std::string signed_part = common::base64url_encode(R"({"alg":"HS256","typ":"JWT"})") + "." +
                                  common::base64url_encode(claims.dump(-1, ' ', false, json::error_handler_t::replace));
  return signed_part + "." + common::base64url_encode(common::hmac_sha256(secret, signed_part));
}

}  // namespace pushgw::web
