#include <gtest/gtest.h>

#include "pushgw/http/server.hpp"

namespace pushgw::http {
namespace {

TEST(ApiKeyMatches, AcceptsAnyConfiguredKeyExactly) {
  const std::vector<std::string> keys = {"alpha-key", "beta-key"};
  EXPECT_TRUE(api_key_matches("alpha-key", keys));
  EXPECT_TRUE(api_key_matches("beta-key", keys));
  EXPECT_FALSE(api_key_matches("alpha-ke", keys));
  EXPECT_FALSE(api_key_matches("alpha-key ", keys));
  EXPECT_FALSE(api_key_matches("ALPHA-KEY", keys));
  EXPECT_FALSE(api_key_matches("", keys));
  EXPECT_FALSE(api_key_matches("alpha-key", {}));
}

TEST(ApiKeyMatches, AnEmptyPresentedKeyNeverMatchesEvenAnEmptyConfiguredOne) {
  EXPECT_FALSE(api_key_matches("", {""}));
}

Request with_headers(Headers headers) {
  Request r;
  r.headers = std::move(headers);
  return r;
}

TEST(PresentedApiKey, ReadsBearerOrXApiKey) {
  EXPECT_EQ(presented_api_key(with_headers({{"authorization", "Bearer abc"}})), "abc");
  EXPECT_EQ(presented_api_key(with_headers({{"authorization", "bearer   abc  "}})), "abc");
  EXPECT_EQ(presented_api_key(with_headers({{"x-api-key", " k1 "}})), "k1");
  EXPECT_EQ(presented_api_key(with_headers({{"authorization", "Basic dXNlcjpwdw=="}})), std::nullopt);
  EXPECT_EQ(presented_api_key(with_headers({})), std::nullopt);
}

TEST(RequestHeader, FindsTheFirstHeaderWithTheName) {
  auto r = with_headers({{"content-type", "application/json"}, {"x", "1"}, {"x", "2"}});
  EXPECT_EQ(r.header("x"), "1");
  EXPECT_EQ(r.header("content-type"), "application/json");
  EXPECT_EQ(r.header("missing"), std::nullopt);
}

}  // namespace
}  // namespace pushgw::http
