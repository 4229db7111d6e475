#pragma once
// Verifies APNs provider tokens ("authorization: bearer <JWT>") as APNs does: an ES256 JWT
// whose header names the key (kid) and whose claims name the team (iss) and the issue time
// (iat, at most one hour old), signed with the .p8 key the simulator was given.

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

typedef struct evp_pkey_st EVP_PKEY;

namespace pushgw::sim {

enum class TokenVerdict { valid, missing, invalid, expired };

// The APNs reason for a verdict: "MissingProviderToken", "InvalidProviderToken",
// "ExpiredProviderToken" ("" for valid).
std::string_view reason_of(TokenVerdict verdict);

// Decodes base64url without padding (padding is tolerated); nullopt-like false on bad input.
bool base64url_decode(std::string_view text, std::string* out);

class ProviderTokenVerifier {
 public:
  // `key_pem` is the .p8 file's text (PKCS#8 PEM of an EC P-256 private key). `key_id` and
  // `team_id`, when not empty, must match the token's kid and iss. Returns nullptr and sets
  // *error on a key that is not usable.
  static std::unique_ptr<ProviderTokenVerifier> from_pem(std::string_view key_pem,
                                                         std::string key_id, std::string team_id,
                                                         std::string* error);
  static std::unique_ptr<ProviderTokenVerifier> from_file(const std::string& path,
                                                          std::string key_id, std::string team_id,
                                                          std::string* error);
  ~ProviderTokenVerifier();
  ProviderTokenVerifier(const ProviderTokenVerifier&) = delete;
  ProviderTokenVerifier& operator=(const ProviderTokenVerifier&) = delete;

  // Checks the value of the authorization header ("" when absent) at `now` (unix seconds).
  // Thread-safe. A token whose signature verified once is remembered, so providers that reuse
  // their token (as APNs expects) cost one signature check, not one per request.
  TokenVerdict check(std::string_view authorization, std::int64_t now) const;

 private:
  ProviderTokenVerifier(EVP_PKEY* key, std::string key_id, std::string team_id);
  bool verify_signature(std::string_view signed_part, std::string_view signature) const;

  EVP_PKEY* key_;
  std::string key_id_;
  std::string team_id_;
  mutable std::mutex mutex_;
  mutable std::unordered_map<std::string, std::int64_t> verified_;  // JWT → its iat
};

}  // namespace pushgw::sim
