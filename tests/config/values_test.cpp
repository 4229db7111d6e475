#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>

#include "pushgw/config/config.hpp"

namespace {

using namespace pushgw::config;
using namespace std::chrono_literals;
using ::testing::HasSubstr;

// --- parse_duration ---

TEST(ParseDuration, AcceptsEachUnit) {
  EXPECT_EQ(parse_duration("250ms", nullptr), 250ms);
  EXPECT_EQ(parse_duration("10s", nullptr), 10s);
  EXPECT_EQ(parse_duration("2m", nullptr), 2min);
  EXPECT_EQ(parse_duration("1h", nullptr), 1h);
  EXPECT_EQ(parse_duration("0s", nullptr), 0ms);
}

TEST(ParseDuration, AcceptsSumsAndFractions) {
  EXPECT_EQ(parse_duration("1m30s", nullptr), 90s);
  EXPECT_EQ(parse_duration("1h1m1s1ms", nullptr), 3661001ms);
  EXPECT_EQ(parse_duration("1.5s", nullptr), 1500ms);
  EXPECT_EQ(parse_duration(".25s", nullptr), 250ms);
  EXPECT_EQ(parse_duration("0.5m", nullptr), 30s);
}

std::string duration_error(const std::string& text) {
  std::string error;
  EXPECT_EQ(parse_duration(text, &error), std::nullopt) << text;
  return error;
}

TEST(ParseDuration, BareNumberAsksForAUnit) {
  EXPECT_EQ(duration_error("10"),
            "needs a unit: write \"10s\" for seconds or \"10ms\" for milliseconds (units: ms, s, m, h, d)");
  EXPECT_THAT(duration_error("1m30"), HasSubstr("needs a unit after \"30\" in \"1m30\""));
}

TEST(ParseDuration, RejectsOtherMistakes) {
  EXPECT_THAT(duration_error(""), HasSubstr("is empty"));
  EXPECT_THAT(duration_error("10sec"), HasSubstr("unknown unit \"sec\" in \"10sec\"; use ms, s, m, h or d"));
  EXPECT_THAT(duration_error("10S"), HasSubstr("unknown unit \"S\""));
  EXPECT_THAT(duration_error("-1s"), HasSubstr("must not be negative"));
  EXPECT_THAT(duration_error("10 s"), HasSubstr("no spaces"));
  EXPECT_THAT(duration_error("s"), HasSubstr("expected a duration like"));
  EXPECT_THAT(duration_error("1.s"), HasSubstr("expected a duration like"));
  EXPECT_THAT(duration_error("0.5ms"), HasSubstr("finer than a millisecond"));
  EXPECT_THAT(duration_error("8761h"), HasSubstr("too long"));
  EXPECT_THAT(duration_error("99999999999999999999h"), HasSubstr("too long"));
}

TEST(ParseDuration, AcceptsTheMaximum) {
  EXPECT_EQ(parse_duration("8760h", nullptr), 8760h);
  EXPECT_EQ(parse_duration("90d", nullptr), 90 * 24h);  // feedback.inactive_ttl's default
  EXPECT_EQ(parse_duration("365d", nullptr), 8760h);
  EXPECT_FALSE(parse_duration("366d", nullptr));
}

// --- parse_size ---

TEST(ParseSize, AcceptsBytesAndUnits) {
  EXPECT_EQ(parse_size("65536", nullptr), 65536u);
  EXPECT_EQ(parse_size("100B", nullptr), 100u);
  EXPECT_EQ(parse_size("4KB", nullptr), 4000u);
  EXPECT_EQ(parse_size("64KiB", nullptr), 65536u);
  EXPECT_EQ(parse_size("1MB", nullptr), 1000000u);
  EXPECT_EQ(parse_size("1MiB", nullptr), 1048576u);
  EXPECT_EQ(parse_size("2GB", nullptr), 2000000000u);
  EXPECT_EQ(parse_size("1GiB", nullptr), 1073741824u);
  EXPECT_EQ(parse_size("64 kib", nullptr), 65536u);
  EXPECT_EQ(parse_size("0", nullptr), 0u);
}

std::string size_error(const std::string& text) {
  std::string error;
  EXPECT_EQ(parse_size(text, &error), std::nullopt) << text;
  return error;
}

TEST(ParseSize, RejectsMistakes) {
  EXPECT_THAT(size_error(""), HasSubstr("is empty"));
  EXPECT_THAT(size_error("-1"), HasSubstr("must not be negative"));
  EXPECT_THAT(size_error("KiB"), HasSubstr("expected a size like"));
  EXPECT_THAT(size_error("64XB"), HasSubstr("unknown unit \"XB\""));
  EXPECT_THAT(size_error("64K"), HasSubstr("unknown unit \"K\""));
  EXPECT_THAT(size_error("1.5MiB"), HasSubstr("whole number"));
  EXPECT_THAT(size_error("99999999999GiB"), HasSubstr("too large"));
  EXPECT_THAT(size_error("9999999999999999"), HasSubstr("too large"));
}

// --- parse_listen_address ---

TEST(ParseListenAddress, Forms) {
  EXPECT_EQ(parse_listen_address("127.0.0.1:8088", nullptr), (ListenAddress{"127.0.0.1", 8088}));
  EXPECT_EQ(parse_listen_address(":8088", nullptr), (ListenAddress{"0.0.0.0", 8088}));
  EXPECT_EQ(parse_listen_address("[::1]:8088", nullptr), (ListenAddress{"::1", 8088}));
  EXPECT_EQ(parse_listen_address("[fe80::1%eth0]:1", nullptr), (ListenAddress{"fe80::1%eth0", 1}));
  EXPECT_EQ(parse_listen_address("gateway.local:65535", nullptr),
            (ListenAddress{"gateway.local", 65535}));
}

std::string listen_error(const std::string& text) {
  std::string error;
  EXPECT_EQ(parse_listen_address(text, &error), std::nullopt) << text;
  return error;
}

TEST(ParseListenAddress, RejectsMistakes) {
  EXPECT_THAT(listen_error(""), HasSubstr("is empty"));
  EXPECT_THAT(listen_error("8088"), HasSubstr("expected host:port"));
  EXPECT_THAT(listen_error("localhost"), HasSubstr("expected host:port"));
  EXPECT_THAT(listen_error("::1:8088"), HasSubstr("IPv6 address needs brackets"));
  EXPECT_THAT(listen_error("[::1]"), HasSubstr("has no port"));
  EXPECT_THAT(listen_error("[::1"), HasSubstr("unclosed \"[\""));
  EXPECT_THAT(listen_error("[nothex]:80"), HasSubstr("invalid IPv6 address \"nothex\""));
  EXPECT_THAT(listen_error("host:"), HasSubstr("port must be 1-65535, got \"\""));
  EXPECT_THAT(listen_error("host:http"), HasSubstr("port must be 1-65535, got \"http\""));
  EXPECT_THAT(listen_error("host:65536"), HasSubstr("port must be 1-65535, got \"65536\""));
  EXPECT_THAT(listen_error("bad/host:80"), HasSubstr("invalid host \"bad/host\""));
  EXPECT_THAT(listen_error("a b:80"), HasSubstr("expected host:port"));
}

// --- parse_https_endpoint ---

TEST(ParseHttpsEndpoint, Forms) {
  EXPECT_EQ(parse_https_endpoint("https://api.push.apple.com", nullptr),
            (HttpsEndpoint{"api.push.apple.com", 443}));
  EXPECT_EQ(parse_https_endpoint("https://127.0.0.1:8443/", nullptr),
            (HttpsEndpoint{"127.0.0.1", 8443}));
  EXPECT_EQ(parse_https_endpoint("HTTPS://[::1]:9443", nullptr), (HttpsEndpoint{"::1", 9443}));
  EXPECT_EQ(parse_https_endpoint("https://[::1]", nullptr), (HttpsEndpoint{"::1", 443}));
}

std::string endpoint_error(const std::string& url) {
  std::string error;
  EXPECT_EQ(parse_https_endpoint(url, &error), std::nullopt) << url;
  return error;
}

TEST(ParseHttpsEndpoint, RejectsMistakes) {
  EXPECT_THAT(endpoint_error("http://127.0.0.1:8443"), HasSubstr("must use https://"));
  EXPECT_THAT(endpoint_error("api.push.apple.com"), HasSubstr("expected an https:// URL"));
  EXPECT_THAT(endpoint_error("https://"), HasSubstr("has no host"));
  EXPECT_THAT(endpoint_error("https://:443"), HasSubstr("has no host"));
  EXPECT_THAT(endpoint_error("https://host/v1"), HasSubstr("must not have a path"));
  EXPECT_THAT(endpoint_error("https://host?x=1"), HasSubstr("must not have a path, query"));
  EXPECT_THAT(endpoint_error("https://user@host"), HasSubstr("user info"));
  EXPECT_THAT(endpoint_error("https://host:0"), HasSubstr("port must be 1-65535"));
  EXPECT_THAT(endpoint_error("https://::1:443"), HasSubstr("needs brackets"));
}

// --- substitute_env ---

std::optional<std::string> test_env(const std::string& name) {
  static const std::map<std::string, std::string> env = {
      {"HOST", "cache.internal"}, {"PORT", "6380"}, {"EMPTY", ""}, {"TRICKY", "}${X}$${"}};
  const auto it = env.find(name);
  if (it == env.end()) return std::nullopt;
  return it->second;
}

std::string substituted(const std::string& text) {
  std::string error;
  const auto out = substitute_env(text, &test_env, &error);
  EXPECT_TRUE(out) << text << ": " << error;
  return out.value_or("");
}

std::string substitution_error(const std::string& text) {
  std::string error;
  EXPECT_EQ(substitute_env(text, &test_env, &error), std::nullopt) << text;
  return error;
}

TEST(SubstituteEnv, ReplacesVariables) {
  EXPECT_EQ(substituted("redis://${HOST}:${PORT}/0"), "redis://cache.internal:6380/0");
  EXPECT_EQ(substituted("plain text"), "plain text");
  EXPECT_EQ(substituted(""), "");
  EXPECT_EQ(substituted("${EMPTY}"), "");
}

TEST(SubstituteEnv, DefaultWhenUnsetOrEmpty) {
  EXPECT_EQ(substituted("${MISSING:-fallback}"), "fallback");
  EXPECT_EQ(substituted("${EMPTY:-fallback}"), "fallback");
  EXPECT_EQ(substituted("${HOST:-fallback}"), "cache.internal");
  EXPECT_EQ(substituted("${MISSING:-}"), "");
  EXPECT_EQ(substituted("${MISSING:-redis://h:1/0}"), "redis://h:1/0");
}

TEST(SubstituteEnv, ValuesAreNotScannedAgain) {
  EXPECT_EQ(substituted("${TRICKY}"), "}${X}$${");
}

TEST(SubstituteEnv, DoubleDollarEscapes) {
  EXPECT_EQ(substituted("$${HOST}"), "${HOST}");
  EXPECT_EQ(substituted("$$${HOST}"), "$${HOST}");
  EXPECT_EQ(substituted("cost $5 and $$"), "cost $5 and $$");
}

TEST(SubstituteEnv, Errors) {
  EXPECT_EQ(substitution_error("key-${PUSHGW_API_KEY}"),
            "uses environment variable PUSHGW_API_KEY, which is not set (set it, or write "
            "${PUSHGW_API_KEY:-default} to give a default)");
  EXPECT_THAT(substitution_error("${HOST"), HasSubstr("without a closing \"}\""));
  EXPECT_THAT(substitution_error("${}"), HasSubstr("invalid variable name \"\""));
  EXPECT_THAT(substitution_error("${1ABC}"), HasSubstr("invalid variable name \"1ABC\""));
  EXPECT_THAT(substitution_error("${A-B}"), HasSubstr("invalid variable name \"A-B\""));
  EXPECT_THAT(substitution_error("${A:-${B}}"), HasSubstr("nesting is not supported"));
}

TEST(SubstituteEnv, NullLookupMeansNothingIsSet) {
  std::string error;
  EXPECT_EQ(substitute_env("${X:-d}", nullptr, &error), "d");
  EXPECT_EQ(substitute_env("${X}", nullptr, &error), std::nullopt);
}

}  // namespace
