// text.hpp is private to src/config, so it is included by its path.
#include "../../src/config/text.hpp"

#include <gtest/gtest.h>

namespace {

using namespace pushgw::config::detail;

TEST(InQuotes, EscapesQuotesBackslashesAndControlCharacters) {
  EXPECT_EQ(in_quotes("plain"), "\"plain\"");
  EXPECT_EQ(in_quotes(""), "\"\"");
  EXPECT_EQ(in_quotes("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(in_quotes("x\ny\tz"), "\"x\\ny\\tz\"");
  EXPECT_EQ(in_quotes(std::string("\x01\x7f", 2)), "\"\\x01\\x7f\"");
}

TEST(InQuotes, CutsLongValuesShort) {
  const std::string long_value(200, 'a');
  EXPECT_EQ(in_quotes(long_value), "\"" + std::string(80, 'a') + "...\"");
  EXPECT_EQ(in_quotes(std::string(80, 'b')), "\"" + std::string(80, 'b') + "\"");
  EXPECT_EQ(in_quotes(long_value, 500), "\"" + long_value + "\"");
}

TEST(AllDigits, OnlyNonEmptyRunsOfDigits) {
  EXPECT_TRUE(all_digits("0123456789"));
  EXPECT_FALSE(all_digits(""));
  EXPECT_FALSE(all_digits("12a"));
  EXPECT_FALSE(all_digits("-1"));
  EXPECT_TRUE(is_ascii_alnum('z'));
  EXPECT_FALSE(is_ascii_alnum('_'));
}

TEST(ParsePort, RangeOneTo65535) {
  EXPECT_EQ(parse_port("1", nullptr), 1);
  EXPECT_EQ(parse_port("65535", nullptr), 65535);
  EXPECT_EQ(parse_port("08088", nullptr), 8088);
  std::string error;
  EXPECT_EQ(parse_port("0", &error), std::nullopt);
  EXPECT_EQ(error, "port must be 1-65535, got \"0\"");
  EXPECT_EQ(parse_port("65536", &error), std::nullopt);
  EXPECT_EQ(parse_port("999999999999", &error), std::nullopt);
  EXPECT_EQ(parse_port("", &error), std::nullopt);
  EXPECT_EQ(parse_port("+80", &error), std::nullopt);
  EXPECT_EQ(error, "port must be 1-65535, got \"+80\"");
}

TEST(HostNames, NamesAndIPv4) {
  EXPECT_TRUE(is_valid_host_name("api.push.apple.com"));
  EXPECT_TRUE(is_valid_host_name("127.0.0.1"));
  EXPECT_TRUE(is_valid_host_name("redis_master-1"));
  EXPECT_FALSE(is_valid_host_name(""));
  EXPECT_FALSE(is_valid_host_name("a b"));
  EXPECT_FALSE(is_valid_host_name("host/x"));
  EXPECT_FALSE(is_valid_host_name(std::string(254, 'a')));
}

TEST(HostNames, IPv6Literals) {
  EXPECT_TRUE(is_valid_ipv6_literal("::1"));
  EXPECT_TRUE(is_valid_ipv6_literal("2001:DB8::ffff:1.2.3.4"));
  EXPECT_TRUE(is_valid_ipv6_literal("fe80::1%eth0"));
  EXPECT_FALSE(is_valid_ipv6_literal(""));
  EXPECT_FALSE(is_valid_ipv6_literal("1.2.3.4"));
  EXPECT_FALSE(is_valid_ipv6_literal("::g"));
  EXPECT_FALSE(is_valid_ipv6_literal("fe80::1%"));
}

}  // namespace
