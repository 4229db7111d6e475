#pragma once
// An unencrypted PEM private key of one algorithm family, and SHA-256 signatures made with it:
// what both the APNs provider token (ES256, an EC P-256 key) and the FCM OAuth assertion
// (RS256, an RSA key) need, written once. Loading says what is wrong as a Problem, and each
// caller words its own error (naming the file and what its service expects).
//
// Immutable once loaded; copies share the key; signing from several threads at once is safe.

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "pushgw/common/openssl.hpp"

namespace pushgw::common::openssl {

class PrivateKey {
 public:
  enum class Problem {
    encrypted,   // an "ENCRYPTED PRIVATE KEY" block: keys are stored unencrypted
    not_pem,     // no PEM private-key block, or OpenSSL cannot read it (detail: its reason)
    wrong_type,  // another algorithm (detail: the type found, e.g. "RSA")
  };
  struct Failure {
    Problem problem;
    std::string detail;
  };

  // The key in `pem`, which must be of `type` ("EC", "RSA", as EVP_PKEY_is_a knows them).
  static std::variant<PrivateKey, Failure> from_pem(const std::string& pem, const char* type) {
    if (pem.find("-----BEGIN ENCRYPTED PRIVATE KEY-----") != std::string::npos) return Failure{Problem::encrypted, {}};
    if (pem.find("PRIVATE KEY-----") == std::string::npos) return Failure{Problem::not_pem, {}};
    auto bio = memory_bio(pem);
    // password_callback with no password: an encrypted key fails to load, never prompts.
    EVP_PKEY* raw = bio ? PEM_read_bio_PrivateKey_ex(bio.get(), nullptr, &password_callback, nullptr, nullptr, nullptr)
                        : nullptr;
    if (raw == nullptr) return Failure{Problem::not_pem, take_openssl_error()};
    std::shared_ptr<EVP_PKEY> key(raw, PkeyFree{});
    if (!EVP_PKEY_is_a(raw, type)) return Failure{Problem::wrong_type, EVP_PKEY_get0_type_name(raw)};
    ERR_clear_error();
    return PrivateKey(std::move(key));
  }

  EVP_PKEY* get() const { return key_.get(); }

  // The SHA-256 signature of `data` (DER ECDSA-Sig-Value for EC, PKCS#1 v1.5 for RSA);
  // nullopt with OpenSSL's reason in *error.
  std::optional<std::string> sign_sha256(std::string_view data, std::string* error) const {
    MdCtxPtr context(EVP_MD_CTX_new());
    const auto* input = reinterpret_cast<const unsigned char*>(data.data());
    std::size_t length = 0;
    std::string signature;
    bool ok = context && EVP_DigestSignInit(context.get(), nullptr, EVP_sha256(), nullptr, key_.get()) == 1 &&
              EVP_DigestSign(context.get(), nullptr, &length, input, data.size()) == 1;
    if (ok) {
      signature.resize(length);  // the most it can be; the signature may be shorter (DER)
      ok = EVP_DigestSign(context.get(), reinterpret_cast<unsigned char*>(signature.data()), &length, input,
                          data.size()) == 1;
    }
    if (!ok) {
      *error = take_openssl_error();
      return std::nullopt;
    }
    signature.resize(length);
    return signature;
  }

  // The public key as a PEM "PUBLIC KEY" block (for tests and diagnostics); nullopt with
  // OpenSSL's reason in *error.
  std::optional<std::string> public_key_pem(std::string* error) const {
    BioPtr bio(BIO_new(BIO_s_mem()));
    if (!bio || PEM_write_bio_PUBKEY(bio.get(), key_.get()) != 1) {
      *error = take_openssl_error();
      return std::nullopt;
    }
    char* data = nullptr;
    const long length = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(length));
  }

 private:
  explicit PrivateKey(std::shared_ptr<EVP_PKEY> key) : key_(std::move(key)) {}
  std::shared_ptr<EVP_PKEY> key_;
};

}  // namespace pushgw::common::openssl
