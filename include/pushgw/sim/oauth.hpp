#pragma once
// The simulated Google OAuth token endpoint, POST /token: a service account trades an RS256
// JWT assertion (grant_type urn:ietf:params:oauth:grant-type:jwt-bearer) for an access token,
// which the simulated FCM then requires as "authorization: Bearer <token>".

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "pushgw/sim/request.hpp"
#include "pushgw/sim/router.hpp"

typedef struct evp_pkey_st EVP_PKEY;

namespace pushgw::sim::oauth {

inline constexpr std::string_view token_path = "/token";
inline constexpr std::string_view jwt_bearer_grant = "urn:ietf:params:oauth:grant-type:jwt-bearer";
inline constexpr std::int64_t token_lifetime_seconds = 3600;

// The parts of a Google service-account JSON file the simulator uses.
struct ServiceAccount {
  std::string project_id;
  std::string client_email;
  std::string private_key_pem;   // its public half verifies the assertions
  std::string token_uri;
};

// Parses the JSON text of a service-account file; on failure sets *error naming the field.
std::optional<ServiceAccount> parse_service_account(std::string_view json, std::string* error);
std::optional<ServiceAccount> load_service_account(const std::string& path, std::string* error);

// Decodes application/x-www-form-urlencoded `text` and returns the value of `name` ("" if
// absent).
std::string form_value(std::string_view text, std::string_view name);

class TokenIssuer {
 public:
  static std::unique_ptr<TokenIssuer> create(const ServiceAccount& account, std::string* error);
  ~TokenIssuer();
  TokenIssuer(const TokenIssuer&) = delete;
  TokenIssuer& operator=(const TokenIssuer&) = delete;

  // Checks the assertion as Google does and answers {"access_token", "expires_in",
  // "token_type"} or 400 {"error", "error_description"}.
  void handle(const Request& request, Response& response, std::int64_t now);
  void add_routes(Router& router);

  // Whether `token` was issued here and is unexpired at `now`. Thread-safe.
  bool valid_access_token(std::string_view token, std::int64_t now) const;
  const ServiceAccount& account() const { return account_; }

 private:
  TokenIssuer(ServiceAccount account, EVP_PKEY* key) : account_(std::move(account)), key_(key) {}
  // "" when the assertion is acceptable, else the error_description.
  std::string check_assertion(std::string_view assertion, std::int64_t now) const;

  ServiceAccount account_;
  EVP_PKEY* key_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::int64_t> tokens_;  // access token → expiry (unix s)
};

}  // namespace pushgw::sim::oauth
