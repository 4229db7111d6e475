#include "pushgw/apns/jwt.hpp"

#include <array>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>
#include <openssl/ec.h>
#include <openssl/objects.h>

#include "pushgw/common/base64url.hpp"
#include "pushgw/common/openssl.hpp"
#include "pushgw/apns/error.hpp"

namespace pushgw::apns {
namespace {

namespace openssl = common::openssl;
using common::base64url_encode;

constexpr std::size_t kCoordinateBytes = 32;  // P-256: R and S are 256-bit numbers

[[noreturn]] void fail(error code, std::string_view source, std::string_view what) {
  throw CredentialsError(code, std::string(source) + ": " + std::string(what));
}

bool is_p256(EVP_PKEY* key) {
  std::array<char, 64> group{};
  std::size_t length = 0;
  if (EVP_PKEY_get_group_name(key, group.data(), group.size(), &length) != 1) return false;
  const int nid = OBJ_sn2nid(group.data());
  return nid == NID_X9_62_prime256v1 || EC_curve_nist2nid(group.data()) == NID_X9_62_prime256v1;
}

// DER ECDSA-Sig-Value (SEQUENCE of two INTEGERs) → fixed-width R||S.
std::optional<std::string> der_to_jose(const unsigned char* der, std::size_t der_length) {
  const unsigned char* cursor = der;
  ECDSA_SIG* signature = d2i_ECDSA_SIG(nullptr, &cursor, static_cast<long>(der_length));
  if (signature == nullptr) return std::nullopt;
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ECDSA_SIG_get0(signature, &r, &s);
  std::string jose(2 * kCoordinateBytes, '\0');
  auto* out = reinterpret_cast<unsigned char*>(jose.data());
  const bool ok = BN_bn2binpad(r, out, kCoordinateBytes) == static_cast<int>(kCoordinateBytes) &&
                  BN_bn2binpad(s, out + kCoordinateBytes, kCoordinateBytes) ==
                      static_cast<int>(kCoordinateBytes);
  ECDSA_SIG_free(signature);
  if (!ok) return std::nullopt;
  return jose;
}

}  // namespace

SigningKey SigningKey::load_p8_file(const std::string& path) {
  std::string os_error;
  const auto pem = openssl::read_whole_file(path, &os_error);
  if (!pem) fail(error::file_unreadable, path, "cannot read the .p8 key file: " + os_error);
  return from_pem(*pem, path);
}

SigningKey SigningKey::from_pem(const std::string& pem, std::string_view source) {
  auto loaded = openssl::PrivateKey::from_pem(pem, "EC");
  if (auto* failure = std::get_if<openssl::PrivateKey::Failure>(&loaded)) {
    switch (failure->problem) {
      case openssl::PrivateKey::Problem::encrypted:
        fail(error::encrypted_key, source, "the private key is encrypted; APNs .p8 keys are stored unencrypted");
      case openssl::PrivateKey::Problem::not_pem:
        fail(error::not_a_pem_private_key, source,
             failure->detail.empty() ? "not a PEM private key (expected a \"-----BEGIN PRIVATE KEY-----\" block, as "
                                       "in the .p8 file Apple issues)"
                                     : "not a PEM private key (" + failure->detail + ")");
      case openssl::PrivateKey::Problem::wrong_type:
        fail(error::not_an_ec_p256_key, source,
             "not an EC P-256 key (found a " + failure->detail + " key; APNs tokens are signed with ES256)");
    }
  }
  auto& key = std::get<openssl::PrivateKey>(loaded);
  if (!is_p256(key.get())) {
    fail(error::not_an_ec_p256_key, source,
         "not an EC P-256 key (the EC key is on another curve; ES256 needs P-256)");
  }
  return SigningKey(std::move(key));
}

std::string SigningKey::sign_es256(std::string_view data) const {
  std::string reason;
  const auto der = key_.sign_sha256(data, &reason);
  if (!der) throw CredentialsError(error::signing_failed, "ES256 signing failed: " + reason);
  auto jose = der_to_jose(reinterpret_cast<const unsigned char*>(der->data()), der->size());
  if (!jose) {
    throw CredentialsError(error::signing_failed,
                           "ES256 signing failed: OpenSSL returned a malformed signature");
  }
  return *jose;
}

std::string SigningKey::public_key_pem() const {
  std::string reason;
  auto pem = key_.public_key_pem(&reason);
  if (!pem) throw CredentialsError(error::signing_failed, "cannot export the public key: " + reason);
  return std::move(*pem);
}

std::string make_provider_token(const SigningKey& key, std::string_view key_id,
                                std::string_view team_id, std::int64_t issued_at_s) {
  // nlohmann escapes the ids, so an odd character in the config cannot break the JSON.
  const nlohmann::json header = {{"alg", "ES256"}, {"kid", std::string(key_id)}};
  const nlohmann::json claims = {{"iss", std::string(team_id)}, {"iat", issued_at_s}};
  std::string signing_input = base64url_encode(header.dump());
  signing_input += '.';
  signing_input += base64url_encode(claims.dump());
  const std::string signature = key.sign_es256(signing_input);
  signing_input += '.';
  signing_input += base64url_encode(signature);
  return signing_input;
}

}  // namespace pushgw::apns
