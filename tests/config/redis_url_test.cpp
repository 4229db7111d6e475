#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "pushgw/config/config.hpp"

namespace {

using namespace pushgw::config;
using ::testing::HasSubstr;
using ::testing::Not;

RedisEndpoint endpoint(std::string host, std::uint16_t port, std::string user, std::string password,
                       int db) {
  return RedisEndpoint{std::move(host), port, std::move(user), std::move(password), db};
}

TEST(ParseRedisUrl, HostOnlyTakesTheDefaults) {
  EXPECT_EQ(parse_redis_url("redis://localhost", nullptr), endpoint("localhost", 6379, "", "", 0));
  EXPECT_EQ(parse_redis_url("redis://localhost/", nullptr), endpoint("localhost", 6379, "", "", 0));
}

TEST(ParseRedisUrl, EveryPart) {
  EXPECT_EQ(parse_redis_url("redis://10.0.0.5:6380/3", nullptr), endpoint("10.0.0.5", 6380, "", "", 3));
  EXPECT_EQ(parse_redis_url("redis://:pw@h:1/15", nullptr), endpoint("h", 1, "", "pw", 15));
  EXPECT_EQ(parse_redis_url("redis://app:pw@h", nullptr), endpoint("h", 6379, "app", "pw", 0));
  EXPECT_EQ(parse_redis_url("REDIS://h:7000", nullptr), endpoint("h", 7000, "", "", 0));
}

TEST(ParseRedisUrl, PasswordIsPercentDecodedAndMayHoldAtAndSlash) {
  EXPECT_EQ(parse_redis_url("redis://:p%40ss%2Fw%3Ard@h:6379/0", nullptr)->password, "p@ss/w:rd");
  EXPECT_EQ(parse_redis_url("redis://:a/b@c@h:6379/2", nullptr), endpoint("h", 6379, "", "a/b@c", 2));
  EXPECT_EQ(parse_redis_url("redis://us%65r:x@h", nullptr)->username, "user");
}

TEST(ParseRedisUrl, IPv6InBrackets) {
  EXPECT_EQ(parse_redis_url("redis://[::1]:6390/1", nullptr), endpoint("::1", 6390, "", "", 1));
  EXPECT_EQ(parse_redis_url("redis://:pw@[2001:db8::7]", nullptr),
            endpoint("2001:db8::7", 6379, "", "pw", 0));
}

std::string url_error(const std::string& url) {
  std::string error;
  EXPECT_EQ(parse_redis_url(url, &error), std::nullopt) << url;
  return error;
}

TEST(ParseRedisUrl, RedissIsTlsWithTheSameParts) {
  auto endpoint = parse_redis_url("rediss://pushgw:p%40ss@redis.internal:6380/2", nullptr);
  ASSERT_TRUE(endpoint);
  EXPECT_TRUE(endpoint->tls);
  EXPECT_EQ(endpoint->host, "redis.internal");
  EXPECT_EQ(endpoint->port, 6380);
  EXPECT_EQ(endpoint->username, "pushgw");
  EXPECT_EQ(endpoint->password, "p@ss");
  EXPECT_EQ(endpoint->db, 2);
  EXPECT_TRUE(parse_redis_url("REDISS://h", nullptr)->tls);
  EXPECT_FALSE(parse_redis_url("redis://h", nullptr)->tls);
  EXPECT_THAT(url_error("rediss://"), HasSubstr("has no host"));
}

TEST(ParseRedisUrl, RejectsMistakes) {
  EXPECT_THAT(url_error(""), HasSubstr("is empty"));
  EXPECT_THAT(url_error("127.0.0.1:6379"), HasSubstr("must start with redis:// or rediss://"));
  EXPECT_THAT(url_error("unix:///tmp/redis.sock"), HasSubstr("unsupported scheme \"unix\""));
  EXPECT_THAT(url_error("redis://"), HasSubstr("has no host"));
  EXPECT_THAT(url_error("redis://:6379/0"), HasSubstr("has no host"));
  EXPECT_THAT(url_error("redis://h:"), HasSubstr("empty port"));
  EXPECT_THAT(url_error("redis://h:0"), HasSubstr("port must be 1-65535, got \"0\""));
  EXPECT_THAT(url_error("redis://h:65536"), HasSubstr("port must be 1-65535, got \"65536\""));
  EXPECT_THAT(url_error("redis://h:abc"), HasSubstr("port must be 1-65535, got \"abc\""));
  EXPECT_THAT(url_error("redis://h/16"), HasSubstr("db must be a number 0-15, got \"16\""));
  EXPECT_THAT(url_error("redis://h/-1"), HasSubstr("db must be a number 0-15"));
  EXPECT_THAT(url_error("redis://h/0/x"), HasSubstr("db must be a number 0-15, got \"0/x\""));
  EXPECT_THAT(url_error("redis://h/001"), HasSubstr("db must be a number 0-15"));
  EXPECT_THAT(url_error("redis://h?db=1"), HasSubstr("query parameters"));
  EXPECT_THAT(url_error("redis://::1:6379"), HasSubstr("IPv6 host needs brackets"));
  EXPECT_THAT(url_error("redis://[::1"), HasSubstr("unclosed \"[\""));
  EXPECT_THAT(url_error("redis://[::1]x"), HasSubstr("expected \":port\""));
  EXPECT_THAT(url_error("redis://[zz]:1"), HasSubstr("invalid IPv6 host"));
  EXPECT_THAT(url_error("redis://bad_host!:1"), HasSubstr("invalid host"));
}

TEST(ParseRedisUrl, CredentialsNeedAColonAndValidEscapes) {
  EXPECT_THAT(url_error("redis://secret@h"), HasSubstr("the \":\" is missing"));
  EXPECT_THAT(url_error("redis://:bad%zzpw@h"), HasSubstr("invalid %-escape in the password"));
  EXPECT_THAT(url_error("redis://:bad%4@h"), HasSubstr("invalid %-escape in the password"));
  EXPECT_THAT(url_error("redis://u%g1:pw@h"), HasSubstr("invalid %-escape in the user name"));
}

TEST(ParseRedisUrl, MessagesNeverRepeatThePassword) {
  for (const std::string url : {"redis://:Sup3rSecret@h:99999", "rediss://:Sup3rSecret@h:0",
                                "redis://:Sup3rSecret%zz@h", "redis://:Sup3rSecret@h/99",
                                "redis://Sup3rSecret@h"}) {
    EXPECT_THAT(url_error(url), Not(HasSubstr("Sup3rSecret"))) << url;
  }
}

}  // namespace
