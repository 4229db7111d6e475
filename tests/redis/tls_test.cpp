// The Redis TLS context: files it cannot use are refused with the key, the file and the reason.

#include "pushgw/redis/tls.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

#include "support/process.hpp"
#include "support/test_ca.hpp"

namespace pushgw::redis {
namespace {

using ::testing::HasSubstr;

class RedisTlsContextTest : public ::testing::Test {
 protected:
  test::TempDir dir{"pushgw-tls"};
  test::TestCa ca = test::make_test_ca(dir.path());

  std::string write(const std::string& name, const std::string& text) {
    const std::string path = (dir.path() / name).string();
    std::ofstream(path) << text;
    return path;
  }
  std::string error_for(const config::RedisTlsConfig& tls) {
    std::string why;
    EXPECT_EQ(make_tls_context(tls, &why), nullptr);
    return why;
  }
};

TEST_F(RedisTlsContextTest, UsableFilesMakeAContext) {
  std::string why;
  EXPECT_NE(make_tls_context(config::RedisTlsConfig{ca.ca_file, "", "", ""}, &why), nullptr) << why;
  EXPECT_NE(make_tls_context(config::RedisTlsConfig{ca.ca_file, ca.client_cert_file, ca.client_key_file, ""}, &why),
            nullptr) << why;
  EXPECT_NE(make_tls_context({}, &why), nullptr) << why;  // the system store
}

TEST_F(RedisTlsContextTest, FilesItCannotUseAreNamed) {
  const std::string junk = write("junk.pem", "not a certificate\n");
  EXPECT_THAT(error_for(config::RedisTlsConfig{junk, "", "", ""}), HasSubstr("redis.tls.ca_file " + junk + ": "));
  EXPECT_THAT(error_for(config::RedisTlsConfig{ca.ca_file, junk, ca.client_key_file, ""}),
              HasSubstr("redis.tls.cert_file " + junk + ": not a PEM certificate"));
  EXPECT_THAT(error_for(config::RedisTlsConfig{ca.ca_file, ca.client_cert_file, junk, ""}),
              HasSubstr("redis.tls.key_file " + junk + ": not an unencrypted PEM private key"));
  // The server's key is a valid key, but not the client certificate's.
  EXPECT_THAT(error_for(config::RedisTlsConfig{ca.ca_file, ca.client_cert_file, ca.server_key_file, ""}),
              HasSubstr("does not match redis.tls.cert_file"));
}

TEST_F(RedisTlsContextTest, AnEncryptedKeyIsRefusedWithoutPrompting) {
  const std::string encrypted = (dir.path() / "encrypted.key").string();
  const auto result = test::run_command("openssl pkey -in '" + ca.client_key_file + "' -aes256 -passout pass:secret -out '" +
                                        encrypted + "'");
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_THAT(error_for(config::RedisTlsConfig{ca.ca_file, ca.client_cert_file, encrypted, ""}),
              HasSubstr("not an unencrypted PEM private key"));
}

}  // namespace
}  // namespace pushgw::redis
