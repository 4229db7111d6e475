// The OAuth pieces: the RS256 assertion (claims, header, a signature that verifies against the
// service account's public key), the form body, and every kind of token-endpoint answer.

#include "pushgw/fcm/oauth.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "fcm/fixtures.hpp"
#include "pushgw/common/base64url.hpp"

namespace pushgw::fcm {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using Kind = TokenError::Kind;

constexpr std::int64_t kIat = 1700000000;

ServiceAccount account(const std::string& token_uri = "https://oauth2.googleapis.com/token") {
  return parse_service_account(testing::service_account_json(token_uri).dump(), "sa.json");
}

struct Jwt {
  nlohmann::json header;
  nlohmann::json claims;
  std::string signing_input;
  std::string signature;
};

Jwt split(const std::string& jwt) {
  const auto first = jwt.find('.');
  const auto second = jwt.find('.', first + 1);
  EXPECT_NE(second, std::string::npos);
  EXPECT_EQ(jwt.find('.', second + 1), std::string::npos);
  Jwt parts;
  parts.header = nlohmann::json::parse(common::base64url_decode(jwt.substr(0, first)).value());
  parts.claims = nlohmann::json::parse(common::base64url_decode(jwt.substr(first + 1, second - first - 1)).value());
  parts.signing_input = jwt.substr(0, second);
  parts.signature = common::base64url_decode(jwt.substr(second + 1)).value();
  return parts;
}

// RS256 verification with OpenSSL against a PEM public key, independent of the code under test.
bool verify_rs256(const std::string& public_pem, const std::string& data, const std::string& signature) {
  BIO* bio = BIO_new_mem_buf(public_pem.data(), static_cast<int>(public_pem.size()));
  EVP_PKEY* key = PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (key == nullptr) return false;
  EVP_MD_CTX* context = EVP_MD_CTX_new();
  const bool ok = EVP_DigestVerifyInit(context, nullptr, EVP_sha256(), nullptr, key) == 1 &&
                  EVP_DigestVerify(context, reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
                                   reinterpret_cast<const unsigned char*>(data.data()), data.size()) == 1;
  EVP_MD_CTX_free(context);
  EVP_PKEY_free(key);
  return ok;
}

TEST(FcmAssertion, HeaderAndClaimsAreWhatGoogleExpects) {
  const auto sa = account();
  const Jwt jwt = split(make_assertion(sa, kIat));
  EXPECT_EQ(jwt.header, (nlohmann::json{{"alg", "RS256"}, {"typ", "JWT"}, {"kid", testing::kKeyId}}));
  EXPECT_EQ(jwt.claims, (nlohmann::json{{"iss", testing::kClientEmail},
                                        {"scope", "https://www.googleapis.com/auth/firebase.messaging"},
                                        {"aud", "https://oauth2.googleapis.com/token"},
                                        {"iat", kIat},
                                        {"exp", kIat + 3600}}));
}

TEST(FcmAssertion, HeaderHasNoKidWithoutAPrivateKeyId) {
  auto doc = testing::service_account_json();
  doc.erase("private_key_id");
  const auto sa = parse_service_account(doc.dump(), "sa.json");
  const Jwt jwt = split(make_assertion(sa, kIat));
  EXPECT_EQ(jwt.header, (nlohmann::json{{"alg", "RS256"}, {"typ", "JWT"}}));
}

TEST(FcmAssertion, AudienceIsTheTokenUri) {
  const Jwt jwt = split(make_assertion(account("https://127.0.0.1:8443/token"), kIat));
  EXPECT_EQ(jwt.claims.at("aud"), "https://127.0.0.1:8443/token");
}

TEST(FcmAssertion, SignatureVerifiesWithThePublicKeyAndOnlyForTheSignedInput) {
  const auto sa = account();
  const Jwt jwt = split(make_assertion(sa, kIat));
  const std::string public_pem = sa.key->public_key_pem();
  EXPECT_EQ(jwt.signature.size(), 256u);  // a 2048-bit RSA signature
  EXPECT_TRUE(verify_rs256(public_pem, jwt.signing_input, jwt.signature));
  std::string tampered = jwt.signing_input;
  tampered.back() = tampered.back() == 'A' ? 'B' : 'A';
  EXPECT_FALSE(verify_rs256(public_pem, tampered, jwt.signature));

  const testing::Pkey other = apns::testing::rsa_key();
  EXPECT_FALSE(verify_rs256(apns::testing::public_key_pem(other.get()), jwt.signing_input, jwt.signature));
}

TEST(FcmTokenRequest, FormBody) {
  EXPECT_EQ(token_request_body("aaa.bbb.ccc"),
            "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=aaa.bbb.ccc");
  EXPECT_EQ(form_urlencode("a-z_A.Z~0 9+/=&"), "a-z_A.Z~0%209%2B%2F%3D%26");
}

TEST(FcmTokenResponse, AccessTokenAndLifetime) {
  const auto response = parse_token_response(
      200, R"({"access_token": "ya29.abc", "expires_in": 3599, "token_type": "Bearer"})");
  const auto* token = std::get_if<AccessToken>(&response);
  ASSERT_NE(token, nullptr);
  EXPECT_EQ(token->value, "ya29.abc");
  EXPECT_EQ(token->expires_in, std::chrono::seconds(3599));
}

TokenError error_of(int status, std::string_view body) {
  const auto response = parse_token_response(status, body);
  const auto* error = std::get_if<TokenError>(&response);
  if (error == nullptr) {
    ADD_FAILURE() << "not an error: " << status << " " << body;
    return {};
  }
  return *error;
}

TEST(FcmTokenResponse, UnusableSuccessIsTransient) {
  for (const char* body : {"", "not json", R"({"expires_in": 3599})", R"({"access_token": "", "expires_in": 3599})",
                           R"({"access_token": "x"})", R"({"access_token": "x", "expires_in": 0})",
                           R"({"access_token": "x", "expires_in": "3599"})",
                           R"({"access_token": "x", "expires_in": 3599, "token_type": "MAC"})"}) {
    const auto error = error_of(200, body);
    EXPECT_EQ(error.kind, Kind::transient) << body;
    EXPECT_EQ(error.reason, "oauth HTTP 200") << body;
  }
}

TEST(FcmTokenResponse, OAuthErrorsAreCredentialsErrorsWithTheCodeAsReason) {
  auto error = error_of(400, R"({"error": "invalid_grant", "error_description": "Invalid JWT Signature."})");
  EXPECT_EQ(error.kind, Kind::credentials);
  EXPECT_EQ(error.reason, "invalid_grant");
  EXPECT_EQ(error.message, "invalid_grant: Invalid JWT Signature.");

  error = error_of(401, R"({"error": "invalid_client", "error_description": "The OAuth client was not found."})");
  EXPECT_EQ(error.kind, Kind::credentials);
  EXPECT_EQ(error.reason, "invalid_client");

  error = error_of(400, R"({"error": "unsupported_grant_type"})");
  EXPECT_EQ(error.reason, "unsupported_grant_type");
  EXPECT_EQ(error.message, "unsupported_grant_type");
}

TEST(FcmTokenResponse, UnknownErrorCodesDoNotBecomeReasons) {
  const auto error = error_of(400, R"({"error": "something_new", "error_description": "details"})");
  EXPECT_EQ(error.kind, Kind::credentials);
  EXPECT_EQ(error.reason, "oauth HTTP 400");
  EXPECT_THAT(error.message, HasSubstr("something_new"));
  EXPECT_THAT(error.message, HasSubstr("details"));

  // A 404 means token_uri is not a token endpoint: our config, not a passing problem.
  EXPECT_EQ(error_of(404, "<html>Not Found</html>").kind, Kind::credentials);
}

TEST(FcmTokenResponse, ServerTroubleIsTransient) {
  auto error = error_of(503, R"({"error": "temporarily_unavailable"})");
  EXPECT_EQ(error.kind, Kind::transient);
  EXPECT_EQ(error.reason, "oauth HTTP 503");
  error = error_of(429, R"({"error": "rate_limit_exceeded"})");
  EXPECT_EQ(error.kind, Kind::transient);
  EXPECT_EQ(error_of(502, "<html>Bad Gateway</html>").kind, Kind::transient);
  EXPECT_EQ(error_of(500, "").kind, Kind::transient);
}

TEST(FcmTokenResponse, DescriptionsAreSanitisedAndShortened) {
  const std::string long_text(500, 'x');
  const auto error =
      error_of(400, R"({"error": "invalid_grant", "error_description": "line\nbreak )" + long_text + "\"}");
  EXPECT_THAT(error.message, Not(HasSubstr("\n")));
  EXPECT_LT(error.message.size(), 260u);
  EXPECT_THAT(error.message, HasSubstr("..."));
}

}  // namespace
}  // namespace pushgw::fcm
