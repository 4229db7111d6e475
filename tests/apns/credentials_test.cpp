#include "pushgw/apns/credentials.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/ssl.h>

#include "apns/test_keys.hpp"
#include "pushgw/apns/error.hpp"

namespace pushgw::apns {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;
using Type = config::ApnsAuthConfig::Type;
namespace t = testing;

template <typename F>
CredentialsError load_error(F&& load) {
  try {
    load();
  } catch (const CredentialsError& e) {
    return e;
  }
  ADD_FAILURE() << "no CredentialsError thrown";
  return CredentialsError(error::signing_failed, "");
}

struct CredentialsTest : ::testing::Test {
  t::TempDir dir;
  t::Pkey key = t::ec_key();

  config::ApnsAuthConfig token_auth() {
    config::ApnsAuthConfig auth;
    auth.type = Type::token;
    auth.key_file = dir.write("AuthKey.p8", t::private_key_pem(key.get()));
    auth.key_id = "ABC123DEFG";
    auth.team_id = "DEF123GHIJ";
    return auth;
  }

  config::ApnsAuthConfig certificate_auth(long from_s = -60, long until_s = 30L * 24 * 3600) {
    config::ApnsAuthConfig auth;
    auth.type = Type::certificate;
    auth.cert_file = dir.write("cert.pem", t::certificate_pem(t::self_signed(key.get(), "Apple Push Services: com.example.app",
                                                                              from_s, until_s).get()));
    auth.key_file = dir.write("key.pem", t::private_key_pem(key.get()));
    return auth;
  }
};

TEST_F(CredentialsTest, TokenAuthLoadsTheSigningKey) {
  const auto credentials = load_credentials(token_auth(), "apps.demo.apns.auth");
  EXPECT_EQ(credentials.type, Type::token);
  ASSERT_TRUE(credentials.signing_key.has_value());
  EXPECT_EQ(credentials.signing_key->public_key_pem(), t::public_key_pem(key.get()));
  EXPECT_EQ(credentials.key_id, "ABC123DEFG");
  EXPECT_EQ(credentials.team_id, "DEF123GHIJ");
  EXPECT_FALSE(credentials.certificate.has_value());
  EXPECT_EQ(credentials.describe(), "token auth, key_id ABC123DEFG, team_id DEF123GHIJ");
}

TEST_F(CredentialsTest, TokenAuthErrorsNameTheConfigKey) {
  auto auth = token_auth();
  auth.key_id.clear();
  auto e = load_error([&] { load_credentials(auth, "apps.demo.apns.auth"); });
  EXPECT_EQ(e.code(), error::missing_setting);
  EXPECT_THAT(e.what(), StartsWith("apps.demo.apns.auth.key_id: "));

  auth = token_auth();
  auth.team_id.clear();
  e = load_error([&] { load_credentials(auth, "apps.demo.apns.auth"); });
  EXPECT_THAT(e.what(), StartsWith("apps.demo.apns.auth.team_id: "));

  auth = token_auth();
  auth.key_file = dir.file("missing.p8");
  e = load_error([&] { load_credentials(auth, "apps.demo.apns.auth"); });
  EXPECT_EQ(e.code(), error::file_unreadable);
  EXPECT_THAT(e.what(), StartsWith("apps.demo.apns.auth.key_file: " + auth.key_file + ": "));

  auth = token_auth();
  auth.key_file = dir.write("rsa.p8", t::private_key_pem(t::rsa_key().get()));
  e = load_error([&] { load_credentials(auth, "apps.demo.apns.auth"); });
  EXPECT_EQ(e.code(), error::not_an_ec_p256_key);
  EXPECT_THAT(e.what(), StartsWith("apps.demo.apns.auth.key_file: " + auth.key_file + ": "));
  EXPECT_THAT(e.what(), HasSubstr("not an EC P-256 key"));
}

TEST_F(CredentialsTest, CertificateAuthWithPemFiles) {
  const auto credentials = load_credentials(certificate_auth(), "apps.demo.apns.auth");
  EXPECT_EQ(credentials.type, Type::certificate);
  ASSERT_TRUE(credentials.certificate.has_value());
  EXPECT_EQ(credentials.certificate->subject(), "CN=Apple Push Services: com.example.app");
  const auto now = std::chrono::system_clock::now();
  EXPECT_GT(credentials.certificate->not_after(), now + std::chrono::hours(24 * 29));
  EXPECT_LT(credentials.certificate->not_after(), now + std::chrono::hours(24 * 31));
  EXPECT_EQ(credentials.certificate->validity_problem(now), std::nullopt);
  EXPECT_THAT(credentials.describe(), HasSubstr("valid until 20"));
}

TEST_F(CredentialsTest, CertificateIsUsableInATlsContext) {
  const auto credentials = load_credentials(certificate_auth(), "apps.demo.apns.auth");
  SSL_CTX* context = SSL_CTX_new(TLS_client_method());
  ASSERT_NE(context, nullptr);
  credentials.certificate->use_in(context);
  X509* installed = SSL_CTX_get0_certificate(context);
  ASSERT_NE(installed, nullptr);
  EXPECT_EQ(SSL_CTX_check_private_key(context), 1);
  SSL_CTX_free(context);
}

TEST_F(CredentialsTest, ExpiryIsReadForReadiness) {
  const auto credentials = load_credentials(certificate_auth(-7200, -3600), "apps.demo.apns.auth");
  const auto problem = credentials.certificate->validity_problem(std::chrono::system_clock::now());
  ASSERT_TRUE(problem.has_value());
  EXPECT_THAT(*problem, HasSubstr("expired at "));
  const auto future = load_credentials(certificate_auth(3600, 7200), "apps.demo.apns.auth");
  EXPECT_THAT(future.certificate->validity_problem(std::chrono::system_clock::now()).value_or(""),
              HasSubstr("not valid before"));
}

TEST_F(CredentialsTest, MismatchedKeyIsRejected) {
  auto auth = certificate_auth();
  auth.key_file = dir.write("other.pem", t::private_key_pem(t::ec_key().get()));
  const auto e = load_error([&] { load_credentials(auth, "apps.x.apns.auth"); });
  EXPECT_EQ(e.code(), error::certificate_key_mismatch);
  EXPECT_THAT(e.what(), HasSubstr("apps.x.apns.auth.cert_file"));
  EXPECT_THAT(e.what(), HasSubstr("does not belong"));
}

TEST_F(CredentialsTest, CertificateErrorsNameTheConfigKey) {
  auto auth = certificate_auth();
  auth.cert_file = dir.write("notacert.pem", "hello");
  auto e = load_error([&] { load_credentials(auth, "apps.x.apns.auth"); });
  EXPECT_EQ(e.code(), error::invalid_certificate);
  EXPECT_THAT(e.what(), StartsWith("apps.x.apns.auth.cert_file: " + auth.cert_file + ": "));

  auth = certificate_auth();
  auth.key_file = dir.file("absent.pem");
  e = load_error([&] { load_credentials(auth, "apps.x.apns.auth"); });
  EXPECT_EQ(e.code(), error::file_unreadable);
  EXPECT_THAT(e.what(), StartsWith("apps.x.apns.auth.key_file: " + auth.key_file + ": "));

  auth = certificate_auth();
  auth.cert_file.clear();
  e = load_error([&] { load_credentials(auth, "apps.x.apns.auth"); });
  EXPECT_EQ(e.code(), error::missing_setting);
  EXPECT_THAT(e.what(), StartsWith("apps.x.apns.auth.cert_file: "));
}

TEST_F(CredentialsTest, EncryptedPemKeyNeedsThePassword) {
  auto auth = certificate_auth();
  auth.key_file = dir.write("enc.pem", t::private_key_pem(key.get(), "s3cret"));
  auto e = load_error([&] { load_credentials(auth, "apps.x.apns.auth"); });
  EXPECT_EQ(e.code(), error::encrypted_key);
  EXPECT_THAT(e.what(), HasSubstr("cert_password"));

  auth.cert_password = "hunter2-not-it";
  e = load_error([&] { load_credentials(auth, "apps.x.apns.auth"); });
  EXPECT_EQ(e.code(), error::encrypted_key);
  EXPECT_THAT(e.what(), ::testing::Not(HasSubstr("hunter2")));  // never echo the password

  auth.cert_password = "s3cret";
  EXPECT_TRUE(load_credentials(auth, "apps.x.apns.auth").certificate.has_value());
}

TEST_F(CredentialsTest, Pkcs12BundleWithPassword) {
  const t::Pkey ca_key = t::ec_key();
  const t::Cert ca = t::self_signed(ca_key.get(), "Test CA");
  const t::Cert leaf = t::self_signed(key.get(), "Apple Push Services: com.example.p12");
  config::ApnsAuthConfig auth;
  auth.type = Type::certificate;
  auth.cert_file = dir.write("push.p12", t::pkcs12_der(key.get(), leaf.get(), "p12pass", {ca.get()}));
  auth.cert_password = "p12pass";

  const auto credentials = load_credentials(auth, "apps.x.apns.auth");
  ASSERT_TRUE(credentials.certificate.has_value());
  EXPECT_EQ(credentials.certificate->subject(), "CN=Apple Push Services: com.example.p12");

  auth.cert_password = "nope";
  const auto e = load_error([&] { load_credentials(auth, "apps.x.apns.auth"); });
  EXPECT_EQ(e.code(), error::invalid_pkcs12);
  EXPECT_THAT(e.what(), StartsWith("apps.x.apns.auth.cert_file: "));
  EXPECT_THAT(e.what(), HasSubstr("wrong cert_password"));
}

TEST_F(CredentialsTest, PemBundleInCertFileAlone) {
  const t::Cert leaf = t::self_signed(key.get(), "bundle");
  config::ApnsAuthConfig auth;
  auth.type = Type::certificate;
  auth.cert_file = dir.write("bundle.pem", t::certificate_pem(leaf.get()) + t::private_key_pem(key.get()));
  EXPECT_EQ(load_credentials(auth, "a").certificate->subject(), "CN=bundle");
}

TEST_F(CredentialsTest, GarbageBundleIsNeitherPemNorPkcs12) {
  config::ApnsAuthConfig auth;
  auth.type = Type::certificate;
  auth.cert_file = dir.write("junk.p12", std::string("\x30\x03\x02\x01", 4));
  const auto e = load_error([&] { load_credentials(auth, "apps.x.apns.auth"); });
  EXPECT_EQ(e.code(), error::invalid_pkcs12);
  EXPECT_THAT(e.what(), HasSubstr("neither PEM nor PKCS#12"));
}

TEST(FormatUtc, Iso8601Seconds) {
  const auto when = std::chrono::sys_days(std::chrono::year(2024) / 5 / 1) + std::chrono::hours(12) +
                    std::chrono::seconds(7) + std::chrono::milliseconds(900);
  EXPECT_EQ(format_utc(when), "2024-05-01T12:00:07Z");
}

}  // namespace
}  // namespace pushgw::apns
