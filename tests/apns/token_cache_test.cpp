#include "pushgw/apns/token_cache.hpp"

#include <gtest/gtest.h>

#include "pushgw/common/base64url.hpp"
#include <nlohmann/json.hpp>

#include "apns/test_keys.hpp"

namespace pushgw::apns {
namespace {

constexpr std::int64_t kStart = 1700000000;
constexpr std::int64_t kMinute = 60;

struct TokenCacheTest : ::testing::Test {
  std::int64_t now = kStart;
  testing::Pkey key = testing::ec_key();
  TokenCache cache{SigningKey::from_pem(testing::private_key_pem(key.get()), "test.p8"), "KEYID00001",
                   "TEAMID0001", TokenCacheConfig{}, [this] { return now; }};

  std::int64_t iat_of(const std::string& token) {
    const auto first = token.find('.');
    const auto second = token.find('.', first + 1);
    const auto claims = common::base64url_decode(token.substr(first + 1, second - first - 1)).value();
    return nlohmann::json::parse(claims).at("iat").get<std::int64_t>();
  }
};

TEST_F(TokenCacheTest, FirstUseMintsATokenIssuedNow) {
  EXPECT_EQ(cache.tokens_minted(), 0u);
  const auto token = cache.token();
  EXPECT_EQ(iat_of(token), kStart);
  EXPECT_EQ(cache.issued_at(), kStart);
  EXPECT_EQ(cache.tokens_minted(), 1u);
}

TEST_F(TokenCacheTest, SameTokenWithinFiftyMinutes) {
  const auto first = cache.token();
  now = kStart + 49 * kMinute + 59;
  EXPECT_EQ(cache.token(), first);
  EXPECT_EQ(cache.tokens_minted(), 1u);
}

TEST_F(TokenCacheTest, RefreshedAfterFiftyMinutes) {
  const auto first = cache.token();
  now = kStart + 50 * kMinute;
  const auto second = cache.token();
  EXPECT_NE(second, first);
  EXPECT_EQ(iat_of(second), now);
  EXPECT_EQ(cache.tokens_minted(), 2u);
  now += 10 * kMinute;
  EXPECT_EQ(cache.token(), second);  // the new token's own 50 minutes start at its iat
}

TEST_F(TokenCacheTest, ExpiredReportAtMinuteFiveDoesNotRefresh) {
  const auto first = cache.token();
  now = kStart + 5 * kMinute;
  EXPECT_FALSE(cache.on_expired_token_reported());
  EXPECT_EQ(cache.token(), first);
  EXPECT_EQ(cache.tokens_minted(), 1u);
}

TEST_F(TokenCacheTest, ExpiredReportAtMinuteTwentyFiveRefreshes) {
  const auto first = cache.token();
  now = kStart + 25 * kMinute;
  EXPECT_TRUE(cache.on_expired_token_reported());
  const auto second = cache.token();
  EXPECT_NE(second, first);
  EXPECT_EQ(iat_of(second), kStart + 25 * kMinute);
}

TEST_F(TokenCacheTest, NoSecondRefreshWithinTwentyMinutesOfTheLast) {
  cache.token();
  now = kStart + 25 * kMinute;
  ASSERT_TRUE(cache.on_expired_token_reported());
  // A burst of 403s from requests that were in flight with the old token.
  for (int minute = 0; minute < 20; ++minute) {
    now = kStart + (25 + minute) * kMinute;
    EXPECT_FALSE(cache.on_expired_token_reported()) << "minute " << 25 + minute;
  }
  EXPECT_EQ(cache.tokens_minted(), 2u);
  now = kStart + 45 * kMinute;
  EXPECT_TRUE(cache.on_expired_token_reported());
  EXPECT_EQ(cache.tokens_minted(), 3u);
}

TEST_F(TokenCacheTest, ExpiredReportBeforeAnyTokenMintsOne) {
  EXPECT_TRUE(cache.on_expired_token_reported());
  EXPECT_EQ(cache.tokens_minted(), 1u);
}

TEST_F(TokenCacheTest, ClockSteppingBackwardsKeepsTheToken) {
  const auto first = cache.token();
  now = kStart - 3600;
  EXPECT_EQ(cache.token(), first);
  EXPECT_FALSE(cache.on_expired_token_reported());
}

TEST_F(TokenCacheTest, IntervalsComeFromTheConfig) {
  TokenCache short_lived(SigningKey::from_pem(testing::private_key_pem(key.get()), "test.p8"), "K", "T",
                         TokenCacheConfig{std::chrono::seconds(10), std::chrono::seconds(5)},
                         [this] { return now; });
  const auto first = short_lived.token();
  now += 4;
  EXPECT_FALSE(short_lived.on_expired_token_reported());
  now += 1;
  EXPECT_TRUE(short_lived.on_expired_token_reported());
  const auto second = short_lived.token();
  EXPECT_NE(second, first);
  now += 10;
  EXPECT_NE(short_lived.token(), second);
}

}  // namespace
}  // namespace pushgw::apns
