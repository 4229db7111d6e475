#include "pushgw/sim/oauth.hpp"

#include <chrono>
#include <fstream>
#include <iterator>
#include <random>

#include <nlohmann/json.hpp>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "pushgw/sim/provider_token.hpp"

namespace pushgw::sim::oauth {

using nlohmann::json;

namespace {

constexpr std::size_t max_issued_tokens = 100000;  // forget everything beyond (a test tool)

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string random_token() {
  thread_local std::mt19937_64 engine{std::random_device{}()};
  static constexpr char alphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string token = "ya29.sim-";
  for (int i = 0; i < 48; ++i) token.push_back(alphabet[engine() % 64]);
  return token;
}

void answer_error(Response& response, std::string_view error, std::string_view description) {
  response.reason = std::string(error);
  response.set_json(400, json{{"error", error}, {"error_description", description}}.dump());
}

bool has_scope(std::string_view scopes, std::string_view wanted) {
  while (!scopes.empty()) {
    const auto space = scopes.find(' ');
    if (scopes.substr(0, space) == wanted) return true;
    if (space == std::string_view::npos) break;
    scopes.remove_prefix(space + 1);
  }
  return false;
}

}  // namespace

std::optional<ServiceAccount> parse_service_account(std::string_view text, std::string* error) {
  std::string ignored;
  if (!error) error = &ignored;
  const json doc = json::parse(text, nullptr, false);
  if (!doc.is_object()) {
    *error = "not a JSON object";
    return std::nullopt;
  }
  ServiceAccount account;
  for (const auto& [field, target] :
       {std::pair<const char*, std::string*>{"project_id", &account.project_id},
        {"client_email", &account.client_email},
        {"private_key", &account.private_key_pem},
        {"token_uri", &account.token_uri}}) {
    const auto it = doc.find(field);
    if (it == doc.end() || !it->is_string() || it->get<std::string>().empty()) {
      *error = std::string(field) + ": missing or not a non-empty string";
      return std::nullopt;
    }
    *target = it->get<std::string>();
  }
  return account;
}

std::optional<ServiceAccount> load_service_account(const std::string& path, std::string* error) {
  std::ifstream in(path);
  if (!in) {
    if (error) *error = path + ": cannot be read";
    return std::nullopt;
  }
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto account = parse_service_account(text, error);
  if (!account && error) *error = path + ": " + *error;
  return account;
}

std::string form_value(std::string_view text, std::string_view name) {
  const auto decode = [](std::string_view encoded) {
    std::string out;
    for (std::size_t i = 0; i < encoded.size(); ++i) {
      const char c = encoded[i];
      if (c == '+') {
        out.push_back(' ');
      } else if (c == '%' && i + 2 < encoded.size()) {
        const auto hex = [](char h) {
          if (h >= '0' && h <= '9') return h - '0';
          if (h >= 'a' && h <= 'f') return h - 'a' + 10;
          if (h >= 'A' && h <= 'F') return h - 'A' + 10;
          return -1;
        };
        const int high = hex(encoded[i + 1]);
        const int low = hex(encoded[i + 2]);
        if (high < 0 || low < 0) {
          out.push_back(c);
          continue;
        }
        out.push_back(static_cast<char>(high * 16 + low));
        i += 2;
      } else {
        out.push_back(c);
      }
    }
    return out;
  };
  while (!text.empty()) {
    const auto amp = text.find('&');
    const std::string_view pair = text.substr(0, amp);
    const auto eq = pair.find('=');
    if (decode(pair.substr(0, eq)) == name) {
      return eq == std::string_view::npos ? std::string() : decode(pair.substr(eq + 1));
    }
    if (amp == std::string_view::npos) break;
    text.remove_prefix(amp + 1);
  }
  return {};
}

std::unique_ptr<TokenIssuer> TokenIssuer::create(const ServiceAccount& account, std::string* error) {
  BIO* bio = BIO_new_mem_buf(account.private_key_pem.data(),
                             static_cast<int>(account.private_key_pem.size()));
  EVP_PKEY* key = bio ? PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr) : nullptr;
  BIO_free(bio);
  ERR_clear_error();
  if (!key || EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA) {
    EVP_PKEY_free(key);
    if (error) *error = "private_key: not a PEM RSA private key";
    return nullptr;
  }
  return std::unique_ptr<TokenIssuer>(new TokenIssuer(account, key));
}

TokenIssuer::~TokenIssuer() { EVP_PKEY_free(key_); }

std::string TokenIssuer::check_assertion(std::string_view jwt, std::int64_t now) const {
  const auto first = jwt.find('.');
  const auto second = first == std::string_view::npos ? first : jwt.find('.', first + 1);
  if (second == std::string_view::npos || jwt.find('.', second + 1) != std::string_view::npos) {
    return "Invalid JWT: not three dot-separated parts.";
  }
  std::string header_text, claims_text, signature;
  if (!base64url_decode(jwt.substr(0, first), &header_text) ||
      !base64url_decode(jwt.substr(first + 1, second - first - 1), &claims_text) ||
      !base64url_decode(jwt.substr(second + 1), &signature)) {
    return "Invalid JWT: bad base64url.";
  }
  const json header = json::parse(header_text, nullptr, false);
  const json claims = json::parse(claims_text, nullptr, false);
  if (!header.is_object() || !claims.is_object()) {
    return "Invalid JWT: parts are not JSON objects.";
  }
  if (header.value("alg", "") != "RS256") return "Invalid JWT: alg must be RS256.";

  const std::string_view signed_part = jwt.substr(0, second);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  const bool signature_ok =
      ctx && EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, key_) == 1 &&
      EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(signature.data()),
                       signature.size(), reinterpret_cast<const unsigned char*>(signed_part.data()),
                       signed_part.size()) == 1;
  EVP_MD_CTX_free(ctx);
  ERR_clear_error();
  if (!signature_ok) return "Invalid JWT Signature.";

  const auto string_claim = [&claims](const char* name) {
    const auto it = claims.find(name);
    return it != claims.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  const auto int_claim = [&claims](const char* name) -> std::optional<std::int64_t> {
    const auto it = claims.find(name);
    if (it == claims.end() || !it->is_number_integer()) return std::nullopt;
    return it->get<std::int64_t>();
  };
  if (string_claim("iss") != account_.client_email) {
    return "Invalid JWT: iss is not the client_email.";
  }
  const std::string aud = string_claim("aud");
  if (aud.rfind("https://", 0) != 0 || aud.size() < 6 || aud.substr(aud.size() - 6) != "/token") {
    return "Invalid JWT: aud must be the token endpoint (https://.../token).";
  }
  const std::string scope = string_claim("scope");
  if (!has_scope(scope, "https://www.googleapis.com/auth/firebase.messaging") &&
      !has_scope(scope, "https://www.googleapis.com/auth/cloud-platform")) {
    return "Invalid JWT: scope must include https://www.googleapis.com/auth/firebase.messaging.";
  }
  const auto iat = int_claim("iat");
  const auto exp = int_claim("exp");
  if (!iat || !exp) return "Invalid JWT: iat and exp must be integers.";
  // Google's wording for every iat/exp problem.
  constexpr const char* bad_time =
      "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable "
      "timeframe. Check your iat and exp values in the JWT claim.";
  if (*iat > now + 60 || *exp <= now || *exp - *iat > token_lifetime_seconds) return bad_time;
  return {};
}

void TokenIssuer::handle(const Request& request, Response& response, std::int64_t now) {
  const std::string_view body = request.body();
  if (form_value(body, "grant_type") != jwt_bearer_grant) {
    answer_error(response, "unsupported_grant_type", "Invalid grant_type: expected " +
                                                         std::string(jwt_bearer_grant));
    return;
  }
  const std::string assertion = form_value(body, "assertion");
  if (assertion.empty()) {
    answer_error(response, "invalid_request", "Missing required parameter: assertion");
    return;
  }
  if (const std::string problem = check_assertion(assertion, now); !problem.empty()) {
    answer_error(response, "invalid_grant", problem);
    return;
  }
  const std::string token = random_token();
  {
    std::lock_guard lock(mutex_);
    if (tokens_.size() >= max_issued_tokens) tokens_.clear();
    tokens_.emplace(token, now + token_lifetime_seconds);
  }
  response.set_json(200, json{{"access_token", token},
                              {"expires_in", token_lifetime_seconds - 1},
                              {"token_type", "Bearer"}}
                             .dump());
}

bool TokenIssuer::valid_access_token(std::string_view token, std::int64_t now) const {
  std::lock_guard lock(mutex_);
  const auto it = tokens_.find(std::string(token));
  return it != tokens_.end() && it->second > now;
}

void TokenIssuer::add_routes(Router& router) {
  router.add(Route{
      .method = "POST",
      .path = std::string(token_path),
      .prefix = false,
      .counted = false,  // /sim/stats counts notifications, not token requests
      .http1 = true,
      .handler = [this](const Request& request, Response& response, ConnectionContext&) {
        handle(request, response, unix_now());
      },
  });
}

}  // namespace pushgw::sim::oauth
