#pragma once
// The APNs provider token: a JWT signed with ES256 by the team's .p8 key.
//
//   header  {"alg":"ES256","kid":<key id>}
//   claims  {"iss":<team id>,"iat":<unix seconds>}
//   token   base64url(header) "." base64url(claims) "." base64url(R||S)
//
// base64url has no padding; the signature is the 64-byte JOSE form (R and S, 32 bytes each,
// big-endian), not the DER that OpenSSL produces.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "pushgw/common/private_key.hpp"

namespace pushgw::apns {

// An EC P-256 private key loaded from a .p8 (PKCS#8 PEM; SEC1 "EC PRIVATE KEY" PEM is also
// accepted). Immutable once loaded; copies share the key; signing from several threads at
// once is safe.
class SigningKey {
 public:
  // Throws CredentialsError (file_unreadable, not_a_pem_private_key, encrypted_key,
  // not_an_ec_p256_key) with a message that names `path`.
  static SigningKey load_p8_file(const std::string& path);
  // The same from PEM text; `source` names where it came from in error messages.
  static SigningKey from_pem(const std::string& pem, std::string_view source);

  // ES256 signature of `data`: 64 bytes R||S. Throws CredentialsError(signing_failed).
  std::string sign_es256(std::string_view data) const;

  // The public key as a PEM "PUBLIC KEY" block (for tests and diagnostics).
  std::string public_key_pem() const;

 private:
  explicit SigningKey(common::openssl::PrivateKey key) : key_(std::move(key)) {}
  common::openssl::PrivateKey key_;
};

// Builds and signs a provider token issued at `issued_at_s` (unix seconds).
std::string make_provider_token(const SigningKey& key, std::string_view key_id,
                                std::string_view team_id, std::int64_t issued_at_s);

}  // namespace pushgw::apns
