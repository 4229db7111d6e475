#include "pushgw/log/log.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace pushgw::log {
namespace {

using ::testing::HasSubstr;

// "2026-11-23T14:32:24.123Z": digits where the pattern has 'd'. (No std::regex: GCC 12 warns
// inside <regex> under the sanitizers.)
bool is_timestamp(std::string_view s) {
  constexpr std::string_view pattern = "dddd-dd-ddTdd:dd:dd.dddZ";
  if (s.size() != pattern.size()) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (pattern[i] == 'd' ? !(s[i] >= '0' && s[i] <= '9') : s[i] != pattern[i]) return false;
  }
  return true;
}

// Points all logging at an in-memory stream for one test.
class LogCapture : public ::testing::Test {
 protected:
  void setup(config::LogConfig config) { setup_logging(config, std::make_shared<spdlog::sinks::ostream_sink_mt>(out_)); }
  void setup_json() {
    config::LogConfig config;
    config.format = config::LogFormat::json;
    setup(config);
  }
  std::vector<std::string> lines() const {
    std::vector<std::string> result;
    std::istringstream in(out_.str());
    for (std::string line; std::getline(in, line);) result.push_back(line);
    return result;
  }
  // out_ dies with the fixture: leave no sink pointing at it.
  void TearDown() override { setup_logging(config::LogConfig{}, std::make_shared<spdlog::sinks::null_sink_mt>()); }

  std::ostringstream out_;
};

// ---- redaction ----

TEST(RedactToken, KeepsSixCharactersAndTheLength) {
  EXPECT_EQ(redact_token("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", true),
            "012345\xE2\x80\xA6(len 64)");
  EXPECT_EQ(redact_token("abcdefghijkl", true), "abcdef\xE2\x80\xA6(len 12)");
}

TEST(RedactToken, ShortTokensShowOnlyTheLength) {
  EXPECT_EQ(redact_token("abcdefghijk", true), "(len 11)");
  EXPECT_EQ(redact_token("x", true), "(len 1)");
  EXPECT_EQ(redact_token("", true), "(len 0)");
}

TEST(RedactToken, DisabledReturnsTheTokenUnchanged) {
  EXPECT_EQ(redact_token("0123456789abcdef", false), "0123456789abcdef");
  EXPECT_EQ(redact_token("", false), "");
}

TEST_F(LogCapture, TokenFollowsTheConfiguredSwitch) {
  config::LogConfig config;
  config.redact_tokens = false;
  setup(config);
  EXPECT_FALSE(token_redaction_enabled());
  EXPECT_EQ(token("0123456789abcdef"), "0123456789abcdef");
  config.redact_tokens = true;
  setup(config);
  EXPECT_TRUE(token_redaction_enabled());
  EXPECT_EQ(token("0123456789abcdef"), "012345\xE2\x80\xA6(len 16)");
  set_token_redaction(false);
  EXPECT_EQ(token("0123456789abcdef"), "0123456789abcdef");
  set_token_redaction(true);
}

// ---- levels ----

TEST(TargetWithoutCredentials, RedactsEveryTokenParameterAndNothingElse) {
  EXPECT_EQ(target_without_credentials("/events?token=eyJabc.def.ghi"), "/events?token=REDACTED");
  EXPECT_EQ(target_without_credentials("/ws?channels=a,b&token=eyJ.x.y&last_id=1-0"),
            "/ws?channels=a,b&token=REDACTED&last_id=1-0");
  EXPECT_EQ(target_without_credentials("/events?mytoken=x&token="), "/events?mytoken=x&token=");
  EXPECT_EQ(target_without_credentials("/push"), "/push");
  EXPECT_EQ(target_without_credentials("/tokens/ios/abc?app=demo"), "/tokens/ios/abc?app=demo");
}

TEST(ParseLevel, AcceptsTheConfigNames) {
  EXPECT_EQ(parse_level("trace"), spdlog::level::trace);
  EXPECT_EQ(parse_level("debug"), spdlog::level::debug);
  EXPECT_EQ(parse_level("info"), spdlog::level::info);
  EXPECT_EQ(parse_level("warn"), spdlog::level::warn);
  EXPECT_EQ(parse_level("error"), spdlog::level::err);
  EXPECT_EQ(parse_level("critical"), spdlog::level::critical);
  EXPECT_EQ(parse_level("off"), spdlog::level::off);
  for (auto level : {spdlog::level::trace, spdlog::level::warn, spdlog::level::err, spdlog::level::off}) {
    EXPECT_EQ(parse_level(level_name(level)), level);
  }
}

TEST(ParseLevel, UnknownNamesThrowNamingTheValue) {
  for (const char* bad : {"verbose", "WARN", "warning", "", "info "}) {
    try {
      parse_level(bad);
      ADD_FAILURE() << "no exception for \"" << bad << "\"";
    } catch (const std::invalid_argument& e) {
      EXPECT_THAT(e.what(), HasSubstr("\"" + std::string(bad) + "\""));
      EXPECT_THAT(e.what(), HasSubstr("trace, debug, info, warn, error, critical or off"));
    }
  }
}

TEST_F(LogCapture, UnknownLevelInSetupThrowsAndChangesNothing) {
  setup(config::LogConfig{});
  std::ostringstream other;
  config::LogConfig bad;
  bad.level = "loud";
  EXPECT_THROW(setup_logging(bad, std::make_shared<spdlog::sinks::ostream_sink_mt>(other)), std::invalid_argument);
  get("redis")->info("still here");
  EXPECT_EQ(other.str(), "");
  ASSERT_EQ(lines().size(), 1u);
}

TEST_F(LogCapture, LevelFiltersRecords) {
  config::LogConfig config;
  config.level = "warn";
  setup(config);
  auto logger = get("queue");
  logger->info("hidden");
  logger->warn("shown");
  logger->error("also shown");
  const auto got = lines();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_THAT(got[0], HasSubstr(" warn [queue] shown"));
  EXPECT_THAT(got[1], HasSubstr(" error [queue] also shown"));
}

// ---- formats ----

TEST_F(LogCapture, TextLineHasTimestampLevelComponentAndMessage) {
  setup(config::LogConfig{});
  get("redis")->info("connected to {}", "127.0.0.1:6379");
  const auto got = lines();
  ASSERT_EQ(got.size(), 1u);
  const std::size_t space = got[0].find(' ');
  EXPECT_TRUE(is_timestamp(got[0].substr(0, space))) << got[0];
  EXPECT_EQ(got[0].substr(space), " info [redis] connected to 127.0.0.1:6379");
}

TEST_F(LogCapture, TextLineEscapesNewlinesSoOneRecordIsOneLine) {
  setup(config::LogConfig{});
  get("http")->warn("bad path {}", "/x\ninjected 2026-01-01T00:00:00.000Z info [http] fake");
  const auto got = lines();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_THAT(got[0], HasSubstr("bad path /x\\ninjected"));
}

TEST_F(LogCapture, JsonLineParsesBackWithQuotesNewlinesAndControlCharacters) {
  setup_json();
  const std::string message = "he said \"hi\"\nthen\ttab \\ backslash \x01 and caf\xC3\xA9";
  get("apns")->error("{}", message);
  const auto got = lines();
  ASSERT_EQ(got.size(), 1u);
  const auto json = nlohmann::json::parse(got[0]);
  EXPECT_EQ(json.at("msg"), message);
  EXPECT_EQ(json.at("level"), "error");
  EXPECT_EQ(json.at("logger"), "apns");
  EXPECT_TRUE(is_timestamp(json.at("ts").get<std::string>())) << got[0];
  EXPECT_EQ(json.size(), 4u);
  EXPECT_EQ(got[0].rfind("{\"ts\":", 0), 0u) << "ts comes first";
}

TEST_F(LogCapture, JsonLineReplacesInvalidUtf8) {
  setup_json();
  get("fcm")->info("bad \xFF byte");
  const auto got = lines();
  ASSERT_EQ(got.size(), 1u);
  const auto json = nlohmann::json::parse(got[0]);  // would throw on invalid UTF-8
  EXPECT_EQ(json.at("msg"), "bad \xEF\xBF\xBD byte");
}

// ---- loggers and sinks ----

TEST_F(LogCapture, ComponentLoggersShareTheSinkAndFollowReconfiguration) {
  auto early = get("early-component");  // created before this setup
  setup_json();
  EXPECT_EQ(get("early-component"), early);
  early->info("one");
  get("other")->info("two");
  spdlog::info("three");  // spdlog's default logger is ours
  const auto got = lines();
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(nlohmann::json::parse(got[0]).at("logger"), "early-component");
  EXPECT_EQ(nlohmann::json::parse(got[1]).at("logger"), "other");
  EXPECT_EQ(nlohmann::json::parse(got[2]).at("logger"), "pushgw");
}

// ---- access log ----

TEST_F(LogCapture, AccessLogJsonHasStructuredFields) {
  setup_json();
  access_log("/push", "POST", "/push?x=\"1\"", 202, 0.001234, 87, "10.0.0.5:4711");
  const auto got = lines();
  ASSERT_EQ(got.size(), 1u);
  const auto json = nlohmann::json::parse(got[0]);
  EXPECT_EQ(json.at("logger"), "access");
  EXPECT_EQ(json.at("level"), "info");
  EXPECT_EQ(json.at("msg"), "POST /push?x=\"1\" 202");
  EXPECT_EQ(json.at("route"), "/push");
  EXPECT_EQ(json.at("method"), "POST");
  EXPECT_EQ(json.at("target"), "/push?x=\"1\"");
  EXPECT_EQ(json.at("status"), 202);
  EXPECT_DOUBLE_EQ(json.at("duration_ms").get<double>(), 1.234);
  EXPECT_EQ(json.at("request_bytes"), 87);
  EXPECT_EQ(json.at("remote"), "10.0.0.5:4711");
}

TEST_F(LogCapture, AccessLogTextIsOneLine) {
  setup(config::LogConfig{});
  access_log("/push", "POST", "/push", 400, 0.002, 55, "127.0.0.1:5000");
  const auto got = lines();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_THAT(got[0], HasSubstr(" info [access] POST /push 400 route=/push duration_ms=2 request_bytes=55 remote=127.0.0.1:5000"));
}

TEST_F(LogCapture, AccessLogFollowsItsSwitchNotTheLevel) {
  config::LogConfig config;
  config.access_log = false;
  setup(config);
  EXPECT_FALSE(access_log_enabled());
  access_log("/healthz", "GET", "/healthz", 200, 0.001, 2, "127.0.0.1:1");
  EXPECT_TRUE(lines().empty());

  config.access_log = true;
  config.level = "error";
  setup(config);
  access_log("/healthz", "GET", "/healthz", 200, 0.001, 2, "127.0.0.1:1");
  get("http")->info("filtered by level");
  ASSERT_EQ(lines().size(), 1u);
  EXPECT_THAT(lines()[0], HasSubstr("[access] GET /healthz 200"));
}

}  // namespace
}  // namespace pushgw::log
