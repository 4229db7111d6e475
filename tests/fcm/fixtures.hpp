#pragma once
// Test-time service accounts for the fcm tests: an RSA key generated with OpenSSL (no private
// key is committed) and the JSON key file Google issues, built around it. Key files, TempDir
// and certificates come from the apns tests' helpers.

#include <string>

#include <nlohmann/json.hpp>

#include "apns/test_keys.hpp"

namespace pushgw::fcm::testing {

using apns::testing::Pkey;
using apns::testing::TempDir;

inline constexpr const char* kProjectId = "pushgw-test";
inline constexpr const char* kClientEmail = "pushgw-test@pushgw-test.iam.gserviceaccount.com";
inline constexpr const char* kKeyId = "test-key-1";

// RSA key generation takes a while; one key serves every test of the process that does not
// need a second one.
inline const std::string& shared_rsa_key_pem() {
  static const std::string pem = [] {
    const Pkey key = apns::testing::rsa_key();
    return apns::testing::private_key_pem(key.get());
  }();
  return pem;
}

// The JSON of a service-account key file, as the Firebase console exports it.
inline nlohmann::json service_account_json(const std::string& token_uri = "https://oauth2.googleapis.com/token",
                                           const std::string& key_pem = shared_rsa_key_pem()) {
  return nlohmann::json{{"type", "service_account"},
                        {"project_id", kProjectId},
                        {"private_key_id", kKeyId},
                        {"private_key", key_pem},
                        {"client_email", kClientEmail},
                        {"client_id", "100000000000000000001"},
                        {"auth_uri", "https://accounts.google.com/o/oauth2/auth"},
                        {"token_uri", token_uri}};
}

}  // namespace pushgw::fcm::testing
