#include "pushgw/apns/jwt.hpp"

#include <array>
#include <vector>

#include <nlohmann/json.hpp>
#include <openssl/ec.h>
#include <openssl/objects.h>
#include <openssl/pem.h>

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
  if (pem.find("-----BEGIN ENCRYPTED PRIVATE KEY-----") != std::string::npos) {
    fail(error::encrypted_key, source,
         "the private key is encrypted; APNs .p8 keys are stored unencrypted");
  }
  if (pem.find("PRIVATE KEY-----") == std::string::npos) {
    fail(error::not_a_pem_private_key, source,
         "not a PEM private key (expected a \"-----BEGIN PRIVATE KEY-----\" block, as in the "
         ".p8 file Apple issues)");
  }
  auto bio = openssl::memory_bio(pem);
  EVP_PKEY* raw = PEM_read_bio_PrivateKey_ex(bio.get(), nullptr, &openssl::password_callback,
                                             nullptr, nullptr, nullptr);
  if (raw == nullptr) {
    fail(error::not_a_pem_private_key, source,
         "not a PEM private key (" + openssl::take_openssl_error() + ")");
  }
  std::shared_ptr<EVP_PKEY> key(raw, openssl::PkeyFree{});
  if (!EVP_PKEY_is_a(raw, "EC")) {
    fail(error::not_an_ec_p256_key, source,
         std::string("not an EC P-256 key (found a ") + EVP_PKEY_get0_type_name(raw) +
             " key; APNs tokens are signed with ES256)");
  }
  if (!is_p256(raw)) {
    fail(error::not_an_ec_p256_key, source,
         "not an EC P-256 key (the EC key is on another curve; ES256 needs P-256)");
  }
  ERR_clear_error();
  return SigningKey(std::move(key));
}

std::string SigningKey::sign_es256(std::string_view data) const {
  openssl::MdCtxPtr context(EVP_MD_CTX_new());
  std::array<unsigned char, 80> der{};  // a P-256 DER signature is at most 72 bytes
  std::size_t der_length = der.size();
  if (!context ||
      EVP_DigestSignInit(context.get(), nullptr, EVP_sha256(), nullptr, key_.get()) != 1 ||
      EVP_DigestSign(context.get(), der.data(), &der_length,
                     reinterpret_cast<const unsigned char*>(data.data()), data.size()) != 1) {
    throw CredentialsError(error::signing_failed,
                           "ES256 signing failed: " + openssl::take_openssl_error());
  }
  auto jose = der_to_jose(der.data(), der_length);
  if (!jose) {
    throw CredentialsError(error::signing_failed,
                           "ES256 signing failed: OpenSSL returned a malformed signature");
  }
  return *jose;
}

std::string SigningKey::public_key_pem() const {
  openssl::BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PUBKEY(bio.get(), key_.get()) != 1) {
    throw CredentialsError(error::signing_failed,
                           "cannot export the public key: " + openssl::take_openssl_error());
  }
  char* data = nullptr;
  const long length = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(length));
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
