#include "pushgw/apns/jwt.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <openssl/ec.h>

#include "apns/test_keys.hpp"
#include "pushgw/apns/error.hpp"
#include "pushgw/common/base64url.hpp"

namespace pushgw::apns {
namespace {

using common::base64url_decode;

using ::testing::HasSubstr;
namespace t = testing;

std::vector<std::string> split_token(const std::string& token) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (std::size_t dot; (dot = token.find('.', start)) != std::string::npos; start = dot + 1) {
    parts.push_back(token.substr(start, dot - start));
  }
  parts.push_back(token.substr(start));
  return parts;
}

// Verifies a JOSE (R||S) ES256 signature the way APNs does, independently of SigningKey:
// R||S back to DER, then EVP_DigestVerify with the public key.
bool verify_es256(const std::string& public_pem, const std::string& signing_input, const std::string& jose) {
  if (jose.size() != 64) return false;
  BIO* bio = BIO_new_mem_buf(public_pem.data(), static_cast<int>(public_pem.size()));
  t::Pkey key(PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr));
  BIO_free(bio);
  if (!key) return false;

  const auto* bytes = reinterpret_cast<const unsigned char*>(jose.data());
  ECDSA_SIG* signature = ECDSA_SIG_new();
  ECDSA_SIG_set0(signature, BN_bin2bn(bytes, 32, nullptr), BN_bin2bn(bytes + 32, 32, nullptr));
  unsigned char* der = nullptr;
  const int der_length = i2d_ECDSA_SIG(signature, &der);
  ECDSA_SIG_free(signature);

  EVP_MD_CTX* context = EVP_MD_CTX_new();
  const bool ok =
      EVP_DigestVerifyInit(context, nullptr, EVP_sha256(), nullptr, key.get()) == 1 &&
      EVP_DigestVerify(context, der, static_cast<std::size_t>(der_length),
                       reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size()) == 1;
  EVP_MD_CTX_free(context);
  OPENSSL_free(der);
  return ok;
}

struct KeyFixture : ::testing::Test {
  t::TempDir dir;
  t::Pkey key = t::ec_key();
  std::string p8 = dir.write("AuthKey_ABC123DEFG.p8", t::private_key_pem(key.get()));
};

TEST_F(KeyFixture, ProviderTokenHasApnsHeaderClaimsAndAVerifiableSignature) {
  const SigningKey signing_key = SigningKey::load_p8_file(p8);
  const std::string token = make_provider_token(signing_key, "ABC123DEFG", "DEF123GHIJ", 1700000000);

  const auto parts = split_token(token);
  ASSERT_EQ(parts.size(), 3u);
  for (const auto& part : parts) EXPECT_EQ(part.find('='), std::string::npos) << "padding in " << part;

  const auto header = nlohmann::json::parse(base64url_decode(parts[0]).value());
  EXPECT_EQ(header, (nlohmann::json{{"alg", "ES256"}, {"kid", "ABC123DEFG"}}));
  const auto claims = nlohmann::json::parse(base64url_decode(parts[1]).value());
  EXPECT_EQ(claims, (nlohmann::json{{"iss", "DEF123GHIJ"}, {"iat", 1700000000}}));

  const auto signature = base64url_decode(parts[2]).value();
  ASSERT_EQ(signature.size(), 64u);
  const std::string signing_input = parts[0] + "." + parts[1];
  EXPECT_TRUE(verify_es256(t::public_key_pem(key.get()), signing_input, signature));
}

TEST_F(KeyFixture, SignatureDoesNotVerifyForOtherDataOrAnotherKey) {
  const SigningKey signing_key = SigningKey::load_p8_file(p8);
  const std::string signature = signing_key.sign_es256("payload");
  EXPECT_TRUE(verify_es256(t::public_key_pem(key.get()), "payload", signature));
  EXPECT_FALSE(verify_es256(t::public_key_pem(key.get()), "payloaD", signature));
  const t::Pkey other = t::ec_key();
  EXPECT_FALSE(verify_es256(t::public_key_pem(other.get()), "payload", signature));
}

TEST_F(KeyFixture, PublicKeyPemIsTheKeysPublicHalf) {
  EXPECT_EQ(SigningKey::load_p8_file(p8).public_key_pem(), t::public_key_pem(key.get()));
}

TEST_F(KeyFixture, AcceptsSec1EcPrivateKeyPem) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey_traditional(bio, key.get(), nullptr, nullptr, 0, nullptr, nullptr);
  const std::string sec1 = t::bio_text(bio);
  ASSERT_THAT(sec1, HasSubstr("BEGIN EC PRIVATE KEY"));
  const SigningKey signing_key = SigningKey::from_pem(sec1, "sec1.pem");
  EXPECT_TRUE(verify_es256(t::public_key_pem(key.get()), "x", signing_key.sign_es256("x")));
}

// Runs `load` and returns the CredentialsError it throws.
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

TEST_F(KeyFixture, MissingFileIsUnreadableAndNamesThePath) {
  const auto path = dir.file("absent.p8");
  const auto e = load_error([&] { SigningKey::load_p8_file(path); });
  EXPECT_EQ(e.code(), error::file_unreadable);
  EXPECT_THAT(e.what(), HasSubstr(path));
  EXPECT_THAT(e.what(), HasSubstr("No such file"));
}

TEST_F(KeyFixture, NonPemFilesAreNotAPemPrivateKey) {
  for (const std::string& content : {std::string("{\"type\": \"service_account\"}"),
                                    t::certificate_pem(t::self_signed(key.get(), "x").get()),
                                    std::string("-----BEGIN PRIVATE KEY-----\nnot base64!\n-----END PRIVATE KEY-----\n"),
                                    std::string()}) {
    const auto path = dir.write("bad.p8", content);
    const auto e = load_error([&] { SigningKey::load_p8_file(path); });
    EXPECT_EQ(e.code(), error::not_a_pem_private_key) << content;
    EXPECT_THAT(e.what(), HasSubstr(path));
    EXPECT_THAT(e.what(), HasSubstr("not a PEM private key"));
  }
}

TEST_F(KeyFixture, RsaAndOtherCurvesAreNotAnEcP256Key) {
  const auto rsa = dir.write("rsa.p8", t::private_key_pem(t::rsa_key().get()));
  auto e = load_error([&] { SigningKey::load_p8_file(rsa); });
  EXPECT_EQ(e.code(), error::not_an_ec_p256_key);
  EXPECT_THAT(e.what(), HasSubstr("not an EC P-256 key"));
  EXPECT_THAT(e.what(), HasSubstr("RSA"));

  const auto p384 = dir.write("p384.p8", t::private_key_pem(t::ec_key("P-384").get()));
  e = load_error([&] { SigningKey::load_p8_file(p384); });
  EXPECT_EQ(e.code(), error::not_an_ec_p256_key);
  EXPECT_THAT(e.what(), HasSubstr(p384));
}

TEST_F(KeyFixture, EncryptedKeyIsReportedWithoutPrompting) {
  const auto path = dir.write("enc.p8", t::private_key_pem(key.get(), "secret"));
  const auto e = load_error([&] { SigningKey::load_p8_file(path); });
  EXPECT_EQ(e.code(), error::encrypted_key);
  EXPECT_THAT(e.what(), HasSubstr(path));
}

TEST_F(KeyFixture, ErrorMessagesNeverContainKeyMaterial) {
  const std::string pem = t::private_key_pem(t::rsa_key().get());
  const auto e = load_error([&] { SigningKey::from_pem(pem, "rsa.p8"); });
  const std::string body_line = pem.substr(pem.find('\n') + 1, 40);
  EXPECT_THAT(e.what(), ::testing::Not(HasSubstr(body_line)));
}

}  // namespace
}  // namespace pushgw::apns
