#include "pushgw/sim/provider_token.hpp"

#include <gtest/gtest.h>

#include "sim/tls_fixture.hpp"

namespace pushgw::sim {
namespace {

using testing::sign_provider_token;

class ProviderTokenTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    verifier_ = ProviderTokenVerifier::from_file(pki_.apns_key_file, "KEY1234567", "TEAM123456",
                                                 &error);
    ASSERT_NE(verifier_, nullptr) << error;
  }
  std::string bearer(const std::string& kid, const std::string& team, std::int64_t iat) {
    return "bearer " + sign_provider_token(pki_.apns_key_pem, kid, team, iat);
  }

  testing::TestPki pki_;
  std::unique_ptr<ProviderTokenVerifier> verifier_;
  const std::int64_t now_ = 1'700'000'000;
};

TEST_F(ProviderTokenTest, AcceptsATokenSignedWithTheKey) {
  EXPECT_EQ(verifier_->check(bearer("KEY1234567", "TEAM123456", now_ - 60), now_),
            TokenVerdict::valid);
  // Remembered tokens are still checked for age.
  const auto token = bearer("KEY1234567", "TEAM123456", now_ - 60);
  EXPECT_EQ(verifier_->check(token, now_), TokenVerdict::valid);
  EXPECT_EQ(verifier_->check(token, now_ + 3600), TokenVerdict::expired);
  EXPECT_EQ(verifier_->check("Bearer " + token.substr(7), now_), TokenVerdict::valid);
}

TEST_F(ProviderTokenTest, MissingAndMalformedTokens) {
  EXPECT_EQ(verifier_->check("", now_), TokenVerdict::missing);
  EXPECT_EQ(verifier_->check("bearer", now_), TokenVerdict::invalid);
  EXPECT_EQ(verifier_->check("basic abc", now_), TokenVerdict::invalid);
  EXPECT_EQ(verifier_->check("bearer a.b", now_), TokenVerdict::invalid);
  EXPECT_EQ(verifier_->check("bearer a.b.c.d", now_), TokenVerdict::invalid);
  EXPECT_EQ(verifier_->check("bearer !!.??.**", now_), TokenVerdict::invalid);
}

TEST_F(ProviderTokenTest, RejectsTheWrongKeyIdTeamOrSigner) {
  EXPECT_EQ(verifier_->check(bearer("OTHERKEY00", "TEAM123456", now_), now_),
            TokenVerdict::invalid);
  EXPECT_EQ(verifier_->check(bearer("KEY1234567", "OTHERTEAM0", now_), now_),
            TokenVerdict::invalid);
  testing::TestPki other;
  const auto foreign = "bearer " + sign_provider_token(other.apns_key_pem, "KEY1234567",
                                                       "TEAM123456", now_);
  EXPECT_EQ(verifier_->check(foreign, now_), TokenVerdict::invalid);
  // A tampered claim breaks the signature.
  auto token = bearer("KEY1234567", "TEAM123456", now_);
  const auto dot = token.find('.');
  token[dot + 2] = token[dot + 2] == 'A' ? 'B' : 'A';
  EXPECT_EQ(verifier_->check(token, now_), TokenVerdict::invalid);
}

TEST_F(ProviderTokenTest, TokensOlderThanAnHourAreExpired) {
  EXPECT_EQ(verifier_->check(bearer("KEY1234567", "TEAM123456", now_ - 3601), now_),
            TokenVerdict::expired);
  EXPECT_EQ(verifier_->check(bearer("KEY1234567", "TEAM123456", now_ - 3600), now_),
            TokenVerdict::valid);
}

TEST(ProviderTokenVerifier, ReasonsAreApnsReasons) {
  EXPECT_EQ(reason_of(TokenVerdict::missing), "MissingProviderToken");
  EXPECT_EQ(reason_of(TokenVerdict::invalid), "InvalidProviderToken");
  EXPECT_EQ(reason_of(TokenVerdict::expired), "ExpiredProviderToken");
  EXPECT_EQ(reason_of(TokenVerdict::valid), "");
}

TEST(ProviderTokenVerifier, UnusableKeysAreRejectedWithAReason) {
  std::string error;
  EXPECT_EQ(ProviderTokenVerifier::from_pem("not a key", "", "", &error), nullptr);
  EXPECT_NE(error.find("not a PEM private key"), std::string::npos) << error;
  EXPECT_EQ(ProviderTokenVerifier::from_file("/nonexistent.p8", "", "", &error), nullptr);
  EXPECT_NE(error.find("/nonexistent.p8: cannot be read"), std::string::npos) << error;
  EVP_PKEY* rsa = EVP_RSA_gen(2048);
  EXPECT_EQ(ProviderTokenVerifier::from_pem(testing::private_key_pem(rsa), "", "", &error), nullptr);
  EVP_PKEY_free(rsa);
  EXPECT_NE(error.find("not an EC P-256 key"), std::string::npos) << error;
}

TEST(Base64Url, DecodesWithAndWithoutPadding) {
  std::string out;
  ASSERT_TRUE(base64url_decode("aGVsbG8", &out));
  EXPECT_EQ(out, "hello");
  ASSERT_TRUE(base64url_decode("aGVsbG8=", &out));
  EXPECT_EQ(out, "hello");
  ASSERT_TRUE(base64url_decode("_-8", &out));
  EXPECT_EQ(out, "\xff\xef");
  EXPECT_FALSE(base64url_decode("a+b/", &out));
  EXPECT_FALSE(base64url_decode("a", &out));
}

}  // namespace
}  // namespace pushgw::sim
