// Loading a Google service-account key file: every field, and an error naming the config key,
// the file and the field for each way the file can be wrong. The key never appears in errors.

#include "pushgw/fcm/service_account.hpp"

#include <cstdlib>
#include <filesystem>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "fcm/fixtures.hpp"
#include "pushgw/fcm/error.hpp"
#include "support/process.hpp"

namespace pushgw::fcm {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

constexpr const char* kConfigPath = "apps.demo.fcm.service_account_file";

// The CredentialsError that `load` throws (fails the test if it throws none).
template <typename F>
CredentialsError error_of(F&& load) {
  try {
    load();
  } catch (const CredentialsError& e) {
    return e;
  }
  ADD_FAILURE() << "no CredentialsError thrown";
  return CredentialsError(error::missing_setting, "");
}

CredentialsError parse_error(const nlohmann::json& doc) {
  return error_of([&] { parse_service_account(doc.dump(), "sa.json"); });
}

// A line of the key's base64 body, to check that no message leaks it.
std::string key_fragment() {
  const std::string& pem = testing::shared_rsa_key_pem();
  return pem.substr(pem.find('\n') + 1, 40);
}

TEST(FcmServiceAccount, LoadsEveryField) {
  testing::TempDir dir;
  const auto file = dir.write("sa.json", testing::service_account_json("https://oauth2.googleapis.com/token").dump(2));
  const ServiceAccount account = load_service_account(file, kConfigPath);
  EXPECT_EQ(account.project_id, testing::kProjectId);
  EXPECT_EQ(account.client_email, testing::kClientEmail);
  EXPECT_EQ(account.private_key_id, testing::kKeyId);
  EXPECT_EQ(account.token_uri, "https://oauth2.googleapis.com/token");
  EXPECT_EQ(account.token_endpoint.host, "oauth2.googleapis.com");
  EXPECT_EQ(account.token_endpoint.port, 443);
  EXPECT_EQ(account.token_endpoint.path, "/token");
  ASSERT_TRUE(account.key.has_value());
  EXPECT_THAT(account.key->public_key_pem(), StartsWith("-----BEGIN PUBLIC KEY-----"));
}

TEST(FcmServiceAccount, DescribeNamesTheAccountProjectAndKeyIdButNeverTheKey) {
  const ServiceAccount account = parse_service_account(testing::service_account_json().dump(), "sa.json");
  EXPECT_EQ(account.describe(), std::string("service account ") + testing::kClientEmail + " (project " +
                                    testing::kProjectId + ", key " + testing::kKeyId + ")");
  EXPECT_THAT(account.describe(), Not(HasSubstr(key_fragment())));

  auto doc = testing::service_account_json();
  doc.erase("private_key_id");
  const ServiceAccount without_id = parse_service_account(doc.dump(), "sa.json");
  EXPECT_TRUE(without_id.private_key_id.empty());
  EXPECT_EQ(without_id.describe(), std::string("service account ") + testing::kClientEmail + " (project " +
                                       testing::kProjectId + ")");
}

TEST(FcmServiceAccount, TokenUriWithPortAndPath) {
  const ServiceAccount account =
      parse_service_account(testing::service_account_json("https://127.0.0.1:8443/token").dump(), "sa.json");
  EXPECT_EQ(account.token_endpoint.host, "127.0.0.1");
  EXPECT_EQ(account.token_endpoint.port, 8443);
  EXPECT_EQ(account.token_endpoint.path, "/token");
}

TEST(FcmServiceAccount, EachMissingFieldIsNamed) {
  for (const char* field : {"project_id", "client_email", "private_key", "token_uri"}) {
    auto doc = testing::service_account_json();
    doc.erase(field);
    const auto e = parse_error(doc);
    EXPECT_EQ(e.code(), error::missing_field) << field;
    EXPECT_EQ(std::string(e.what()), std::string("sa.json: ") + field + ": missing");
  }
}

TEST(FcmServiceAccount, EmptyAndNonStringFieldsAreNamed) {
  auto doc = testing::service_account_json();
  doc["client_email"] = "";
  auto e = parse_error(doc);
  EXPECT_EQ(e.code(), error::missing_field);
  EXPECT_STREQ(e.what(), "sa.json: client_email: empty");

  doc = testing::service_account_json();
  doc["project_id"] = 42;
  e = parse_error(doc);
  EXPECT_EQ(e.code(), error::bad_field);
  EXPECT_STREQ(e.what(), "sa.json: project_id: must be a string");
}

TEST(FcmServiceAccount, OtherCredentialTypesAreRefused) {
  auto doc = testing::service_account_json();
  doc["type"] = "authorized_user";
  const auto e = parse_error(doc);
  EXPECT_EQ(e.code(), error::bad_field);
  EXPECT_THAT(e.what(), HasSubstr("type: must be \"service_account\""));
  EXPECT_THAT(e.what(), HasSubstr("authorized_user"));
}

TEST(FcmServiceAccount, TokenUriMustBeHttps) {
  auto doc = testing::service_account_json("http://oauth2.googleapis.com/token");
  auto e = parse_error(doc);
  EXPECT_EQ(e.code(), error::bad_field);
  EXPECT_THAT(e.what(), HasSubstr("token_uri: \"http://oauth2.googleapis.com/token\""));

  doc = testing::service_account_json("https://oauth2.googleapis.com/token?x=1");
  e = parse_error(doc);
  EXPECT_EQ(e.code(), error::bad_field);
  EXPECT_THAT(e.what(), HasSubstr("token_uri"));
}

TEST(FcmServiceAccount, PrivateKeyMustBeAnUnencryptedPemRsaKey) {
  auto doc = testing::service_account_json();
  doc["private_key"] = "not a key";
  auto e = parse_error(doc);
  EXPECT_EQ(e.code(), error::not_an_rsa_key);
  EXPECT_THAT(e.what(), HasSubstr("sa.json: private_key: not a PEM private key"));

  // PEM armour around garbage: OpenSSL's reason, never the text.
  doc["private_key"] = "-----BEGIN PRIVATE KEY-----\nc2VjcmV0LXNlY3JldA==\n-----END PRIVATE KEY-----\n";
  e = parse_error(doc);
  EXPECT_EQ(e.code(), error::not_an_rsa_key);
  EXPECT_THAT(e.what(), Not(HasSubstr("c2VjcmV0")));

  const testing::Pkey ec_key = apns::testing::ec_key();
  doc["private_key"] = apns::testing::private_key_pem(ec_key.get());
  e = parse_error(doc);
  EXPECT_EQ(e.code(), error::not_an_rsa_key);
  EXPECT_THAT(e.what(), HasSubstr("not an RSA key (found a EC key"));

  const testing::Pkey rsa = apns::testing::rsa_key();
  doc["private_key"] = apns::testing::private_key_pem(rsa.get(), "password");
  e = parse_error(doc);
  EXPECT_EQ(e.code(), error::not_an_rsa_key);
  EXPECT_THAT(e.what(), HasSubstr("encrypted"));
}

TEST(FcmServiceAccount, NotJson) {
  const auto e = error_of([] { parse_service_account("{\"project_id\": ", "sa.json"); });
  EXPECT_EQ(e.code(), error::not_json);
  EXPECT_THAT(e.what(), StartsWith("sa.json: not a JSON object"));
  EXPECT_EQ(error_of([] { parse_service_account("[1, 2]", "sa.json"); }).code(), error::not_json);
}

TEST(FcmServiceAccount, FileErrorsNameTheConfigKeyAndTheFile) {
  testing::TempDir dir;
  const auto missing = dir.file("nope.json");
  auto e = error_of([&] { load_service_account(missing, kConfigPath); });
  EXPECT_EQ(e.code(), error::file_unreadable);
  EXPECT_EQ(std::string(e.what()), std::string(kConfigPath) + ": " + missing +
                                       ": cannot read the service-account file: No such file or directory");

  e = error_of([] { load_service_account("", kConfigPath); });
  EXPECT_EQ(e.code(), error::missing_setting);
  EXPECT_THAT(e.what(), StartsWith(std::string(kConfigPath) + ": not set"));

  auto doc = testing::service_account_json();
  doc.erase("client_email");
  const auto file = dir.write("sa.json", doc.dump());
  e = error_of([&] { load_service_account(file, kConfigPath); });
  EXPECT_EQ(std::string(e.what()), std::string(kConfigPath) + ": " + file + ": client_email: missing");
}

TEST(FcmServiceAccount, LoadsTheFileThatDevCredentialsShWrites) {
  // PUSHGW_SOURCE_DIR when set, else the tree this file is in (as tests/app/daemon.cpp does).
  const std::filesystem::path source_dir = test::env_or(
      "PUSHGW_SOURCE_DIR", std::filesystem::path(__FILE__).parent_path().parent_path().parent_path().string());
  const test::TempDir dir("pushgw-fcm-creds");
  const std::string command = "PUSHGW_SIM_URL=https://127.0.0.1:2197 " +
                              (source_dir / "scripts/dev-credentials.sh").string() + " " + dir.path().string();
  ASSERT_EQ(std::system(command.c_str()), 0) << command;
  const ServiceAccount account =
      load_service_account((dir.path() / "fcm-service-account.json").string(), kConfigPath);
  EXPECT_EQ(account.project_id, "pushgw-dev");
  EXPECT_EQ(account.private_key_id, "dev-key-1");
  EXPECT_EQ(account.token_uri, "https://127.0.0.1:2197/token");
  EXPECT_EQ(account.token_endpoint.port, 2197);
}

TEST(FcmParseHttpsUrl, AcceptsHostPortAndPath) {
  auto url = parse_https_url("https://oauth2.googleapis.com/token");
  ASSERT_TRUE(url);
  EXPECT_EQ(*url, (HttpsUrl{"oauth2.googleapis.com", 443, "/token"}));
  url = parse_https_url("https://[::1]:8443/a/b");
  ASSERT_TRUE(url);
  EXPECT_EQ(*url, (HttpsUrl{"::1", 8443, "/a/b"}));
  url = parse_https_url("https://example.com");
  ASSERT_TRUE(url);
  EXPECT_EQ(url->path, "/");
}

TEST(FcmParseHttpsUrl, RefusesOtherSchemesQueriesAndBadPorts) {
  std::string error;
  EXPECT_FALSE(parse_https_url("http://example.com/token", &error));
  EXPECT_EQ(error, "must start with https://");
  EXPECT_FALSE(parse_https_url("https://example.com/token#x", &error));
  EXPECT_FALSE(parse_https_url("https://example.com:0/token", &error));
  EXPECT_FALSE(error.empty());
  EXPECT_FALSE(parse_https_url("https:///token", &error));
}

}  // namespace
}  // namespace pushgw::fcm
