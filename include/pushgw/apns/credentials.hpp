#pragma once
// APNs credentials as ApnsAuthConfig names them, loaded and validated at start-up so that a
// wrong path or a wrong file stops the daemon with a clear message instead of failing every
// send later:
//   token auth        the .p8 signing key, key_id and team_id (see jwt.hpp, token_cache.hpp)
//   certificate auth  a client certificate and its private key for the TLS handshake:
//                     cert_file + key_file (PEM), or cert_file alone holding PKCS#12 or a PEM
//                     bundle of certificate and key; cert_password decrypts the PKCS#12 or an
//                     encrypted PEM key.
// Every error is a CredentialsError whose message starts with the config key it concerns,
// e.g. "apps.demo.apns.auth.key_file: /secrets/apns.p8: not a PEM private key (...)".

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <openssl/types.h>

#include "pushgw/apns/jwt.hpp"
#include "pushgw/config/config.hpp"

namespace pushgw::apns {

// A TLS client certificate with its private key and the intermediate certificates sent
// along with it. Immutable; copies share the OpenSSL objects.
class ClientCertificate {
 public:
  // PEM certificate (+ chain) in cert_file, PEM private key in key_file. Errors name the file.
  static ClientCertificate load_pem_files(const std::string& cert_file, const std::string& key_file,
                                          const std::string& password);
  // One file holding both: PKCS#12 (.p12, as Keychain exports it) or PEM certificate + key.
  static ClientCertificate load_bundle_file(const std::string& file, const std::string& password);

  // From loaded objects; throws CredentialsError(certificate_key_mismatch) naming `source`
  // when the key does not belong to the certificate.
  ClientCertificate(std::shared_ptr<X509> certificate, std::shared_ptr<EVP_PKEY> key,
                    std::vector<std::shared_ptr<X509>> chain, const std::string& source);

  // Installs certificate, key and chain into a TLS context, e.g.
  // boost::asio::ssl::context::native_handle(). Throws CredentialsError if OpenSSL refuses.
  void use_in(SSL_CTX* context) const;

  std::chrono::system_clock::time_point not_before() const { return not_before_; }
  std::chrono::system_clock::time_point not_after() const { return not_after_; }
  // The subject in one line (RFC 2253), e.g. "CN=Apple Push Services: com.example.app,...".
  const std::string& subject() const { return subject_; }

  // "certificate expired at 2024-05-01T12:00:00Z" or "... is not valid before ...", or nullopt
  // while the certificate is valid at `now`.
  std::optional<std::string> validity_problem(std::chrono::system_clock::time_point now) const;

 private:
  std::shared_ptr<X509> certificate_;
  std::shared_ptr<EVP_PKEY> key_;
  std::vector<std::shared_ptr<X509>> chain_;
  std::chrono::system_clock::time_point not_before_;
  std::chrono::system_clock::time_point not_after_;
  std::string subject_;
};

struct Credentials {
  config::ApnsAuthConfig::Type type = config::ApnsAuthConfig::Type::token;
  // token auth
  std::optional<SigningKey> signing_key;
  std::string key_id;
  std::string team_id;
  // certificate auth
  std::optional<ClientCertificate> certificate;

  // One line for the start-up log; names ids and the certificate, never secrets.
  std::string describe() const;
};

// Loads and validates what `auth` names. `config_path` is where `auth` sits in the config
// (e.g. "apps.demo.apns.auth") and prefixes every error message.
// Throws CredentialsError.
Credentials load_credentials(const config::ApnsAuthConfig& auth, std::string_view config_path);

// "2024-05-01T12:00:00Z"
std::string format_utc(std::chrono::system_clock::time_point when);

}  // namespace pushgw::apns
