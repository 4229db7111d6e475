#pragma once
// A Google service account, as the JSON key file the Firebase console exports
// (config key apps.<app>.fcm.service_account_file). pushgw uses:
//   project_id      the Firebase project: POST /v1/projects/<project_id>/messages:send
//   client_email    the JWT assertion's `iss`
//   private_key     PEM RSA key that signs the assertion (RS256)
//   private_key_id  the assertion's `kid` (optional)
//   token_uri       where the assertion is traded for an access token (https URL)
// Loaded and validated at start-up, so a wrong file stops the daemon with a clear message
// instead of failing every send later. Every error is a CredentialsError whose message names
// the config key, the file and the field, e.g.
//   "apps.demo.fcm.service_account_file: /secrets/fcm.json: client_email: missing".
// The private key is never logged and never part of a message.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "pushgw/common/private_key.hpp"

namespace pushgw::fcm {

// An RSA private key. Immutable; copies share the key; signing from several threads at once
// is safe.
class RsaKey {
 public:
  // Throws CredentialsError(not_an_rsa_key) naming `source` (never the key text).
  static RsaKey from_pem(const std::string& pem, std::string_view source);

  // RS256 (RSASSA-PKCS1-v1_5 with SHA-256) signature of `data`. Throws
  // CredentialsError(signing_failed).
  std::string sign_rs256(std::string_view data) const;

  // The public key as a PEM "PUBLIC KEY" block (for tests and diagnostics).
  std::string public_key_pem() const;

 private:
  explicit RsaKey(common::openssl::PrivateKey key) : key_(std::move(key)) {}
  common::openssl::PrivateKey key_;
};

// The parts of an https URL with a path, e.g. token_uri "https://oauth2.googleapis.com/token".
struct HttpsUrl {
  std::string host;       // IPv6 without brackets
  std::uint16_t port = 443;
  std::string path = "/";
  bool operator==(const HttpsUrl&) const = default;
};
// nullopt with *error set (when not null) unless `url` is https://host[:port][/path] (no
// query, fragment or user info).
std::optional<HttpsUrl> parse_https_url(std::string_view url, std::string* error = nullptr);

struct ServiceAccount {
  std::string project_id;
  std::string client_email;
  std::string private_key_id;  // empty when the file has none
  std::string token_uri;
  HttpsUrl token_endpoint;     // token_uri, parsed
  std::optional<RsaKey> key;   // always set by parse/load

  // One line for the start-up log, e.g.
  // "service account pushgw@demo.iam.gserviceaccount.com (project demo, key 1a2b3c)".
  // Never the key.
  std::string describe() const;
};

// Parses the JSON text of a service-account file. `source` prefixes every error message
// (e.g. "apps.demo.fcm.service_account_file: /secrets/fcm.json"). Throws CredentialsError.
ServiceAccount parse_service_account(std::string_view json_text, std::string_view source);

// Reads and parses `path`. `config_path` is the config key that named the file (e.g.
// "apps.demo.fcm.service_account_file") and prefixes every error message. Throws
// CredentialsError (missing_setting when `path` is empty).
ServiceAccount load_service_account(const std::string& path, std::string_view config_path);

}  // namespace pushgw::fcm
