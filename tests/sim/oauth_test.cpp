#include "pushgw/sim/oauth.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "sim/tls_fixture.hpp"

namespace pushgw::sim::oauth {
namespace {

constexpr std::int64_t now = 1'700'000'000;

Request token_request(const std::string& body) {
  Request request;
  request.set_method("POST");
  request.set_path("/token");
  request.add_header("content-type", "application/x-www-form-urlencoded");
  request.append_body(body, 65536);
  return request;
}

std::string form(const std::string& assertion) {
  return "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=" + assertion;
}

class OAuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    const auto account = load_service_account(pki_.fcm_service_account_file, &error);
    ASSERT_TRUE(account) << error;
    issuer_ = TokenIssuer::create(*account, &error);
    ASSERT_NE(issuer_, nullptr) << error;
  }
  Response post(const std::string& body) {
    Response response;
    issuer_->handle(token_request(body), response, now);
    return response;
  }
  std::string description(const Response& response) {
    return nlohmann::json::parse(response.body).value("error_description", "");
  }

  testing::TestPki pki_;
  std::unique_ptr<TokenIssuer> issuer_;
};

TEST_F(OAuthTest, IssuesAnAccessTokenForAValidAssertion) {
  const Response response = post(form(testing::sign_oauth_assertion(pki_, now)));
  ASSERT_EQ(response.status, 200) << response.body;
  const auto body = nlohmann::json::parse(response.body);
  EXPECT_EQ(body["token_type"], "Bearer");
  EXPECT_EQ(body["expires_in"], 3599);
  const std::string token = body["access_token"];
  EXPECT_TRUE(issuer_->valid_access_token(token, now));
  EXPECT_TRUE(issuer_->valid_access_token(token, now + 3599));
  EXPECT_FALSE(issuer_->valid_access_token(token, now + 3600));
  EXPECT_FALSE(issuer_->valid_access_token("ya29.other", now));
}

TEST_F(OAuthTest, RejectsBadGrantsAsGoogleDoes) {
  const Response grant = post("grant_type=client_credentials&assertion=x");
  EXPECT_EQ(grant.status, 400);
  EXPECT_EQ(nlohmann::json::parse(grant.body)["error"], "unsupported_grant_type");
  EXPECT_EQ(grant.reason, "unsupported_grant_type");

  const Response missing = post("grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer");
  EXPECT_EQ(nlohmann::json::parse(missing.body)["error"], "invalid_request");

  const auto invalid_grant = [&](const std::string& assertion, std::string_view expected) {
    const Response response = post(form(assertion));
    EXPECT_EQ(response.status, 400);
    EXPECT_EQ(nlohmann::json::parse(response.body)["error"], "invalid_grant");
    EXPECT_NE(description(response).find(expected), std::string::npos) << description(response);
  };
  invalid_grant("abc", "three dot-separated parts");
  invalid_grant(testing::sign_oauth_assertion(pki_, now - 7200), "short-lived token");
  invalid_grant(testing::sign_oauth_assertion(pki_, now, "https://127.0.0.1/other"), "aud");
  invalid_grant(testing::sign_oauth_assertion(pki_, now, "https://127.0.0.1/token",
                                              "https://www.googleapis.com/auth/userinfo.email"),
                "scope");
  // Signed by another key.
  EVP_PKEY* other = EVP_RSA_gen(2048);
  const std::string other_pem = testing::private_key_pem(other);
  EVP_PKEY_free(other);
  invalid_grant(testing::sign_jwt(other_pem, R"({"alg":"RS256"})",
                                  R"({"iss":")" + pki_.fcm_client_email +
                                      R"(","scope":"https://www.googleapis.com/auth/firebase.messaging","aud":"https://x/token","iat":)" +
                                      std::to_string(now) + R"(,"exp":)" + std::to_string(now + 3600) + "}"),
                "Invalid JWT Signature");
  // Someone else's client_email.
  invalid_grant(testing::sign_jwt(pki_.fcm_key_pem, R"({"alg":"RS256"})",
                                  R"({"iss":"evil@example.com","scope":"https://www.googleapis.com/auth/cloud-platform","aud":"https://x/token","iat":)" +
                                      std::to_string(now) + R"(,"exp":)" + std::to_string(now + 3600) + "}"),
                "iss");
}

TEST(OAuthServiceAccount, NamesTheMissingField) {
  std::string error;
  EXPECT_FALSE(parse_service_account(R"({"project_id": "p", "client_email": "e", "token_uri": "t"})", &error));
  EXPECT_NE(error.find("private_key"), std::string::npos) << error;
  EXPECT_FALSE(parse_service_account("[]", &error));
  EXPECT_NE(error.find("not a JSON object"), std::string::npos) << error;
  EXPECT_FALSE(load_service_account("/nonexistent.json", &error));
  EXPECT_NE(error.find("/nonexistent.json: cannot be read"), std::string::npos) << error;

  ServiceAccount not_rsa{"p", "e", testing::TestPki().apns_key_pem, "t"};
  EXPECT_EQ(TokenIssuer::create(not_rsa, &error), nullptr);
  EXPECT_NE(error.find("not a PEM RSA private key"), std::string::npos) << error;
}

TEST(OAuthForm, DecodesValues) {
  EXPECT_EQ(form_value("a=1&b=x%2By+z&c", "b"), "x+y z");
  EXPECT_EQ(form_value("a=1&b=2", "a"), "1");
  EXPECT_EQ(form_value("a=1&c", "c"), "");
  EXPECT_EQ(form_value("a=1", "missing"), "");
  EXPECT_EQ(form_value("a=%zz", "a"), "%zz");
}

}  // namespace
}  // namespace pushgw::sim::oauth
