#include "pushgw/log/format.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <spdlog/details/log_msg.h>

#include <chrono>
#include <limits>
#include <string>

namespace pushgw::log {
namespace {

using namespace std::chrono;

// 2026-11-23T14:32:24.123Z
const system_clock::time_point kTime = sys_days{year{2026} / 11 / 23} + hours{14} + minutes{32} + seconds{24} +
                                       milliseconds{123} + microseconds{999};

std::string format_record(config::LogFormat format, std::string_view logger, spdlog::level::level_enum level,
                          std::string_view text) {
  LineFormatter formatter(format);
  const spdlog::details::log_msg msg(kTime, spdlog::source_loc{}, spdlog::string_view_t(logger.data(), logger.size()),
                                     level, spdlog::string_view_t(text.data(), text.size()));
  spdlog::memory_buf_t buf;
  formatter.format(msg, buf);
  return std::string(buf.data(), buf.size());
}

TEST(FormatTimestamp, IsUtcWithMillisecondsTruncated) {
  EXPECT_EQ(format_timestamp(kTime), "2026-11-23T14:32:24.123Z");
  EXPECT_EQ(format_timestamp(system_clock::time_point{}), "1970-01-01T00:00:00.000Z");
}

TEST(LineFormatter, TextFormat) {
  EXPECT_EQ(format_record(config::LogFormat::text, "redis", spdlog::level::info, "connected"),
            "2026-11-23T14:32:24.123Z info [redis] connected\n");
  EXPECT_EQ(format_record(config::LogFormat::text, "h2", spdlog::level::warn, "GOAWAY"),
            "2026-11-23T14:32:24.123Z warn [h2] GOAWAY\n");
  EXPECT_EQ(format_record(config::LogFormat::text, "", spdlog::level::err, "no component"),
            "2026-11-23T14:32:24.123Z error no component\n");
}

TEST(LineFormatter, JsonFormat) {
  EXPECT_EQ(format_record(config::LogFormat::json, "redis", spdlog::level::critical, "say \"x\"\n"),
            "{\"ts\":\"2026-11-23T14:32:24.123Z\",\"level\":\"critical\",\"logger\":\"redis\","
            "\"msg\":\"say \\\"x\\\"\\n\"}\n");
}

TEST(LineFormatter, FieldsAppearInBothFormatsAndJsonOnlyFieldsOnlyInJson) {
  const Field fields[] = {{"route", std::string_view("/push")},
                          {"status", std::int64_t{202}, true},
                          {"ms", 1.5},
                          {"note", std::string_view("has space")},
                          {"bad", std::numeric_limits<double>::infinity()}};
  ScopedFields scoped(fields);
  EXPECT_EQ(format_record(config::LogFormat::text, "access", spdlog::level::info, "GET / 202"),
            "2026-11-23T14:32:24.123Z info [access] GET / 202 route=/push ms=1.5 note=\"has space\" bad=inf\n");
  const auto json = nlohmann::json::parse(format_record(config::LogFormat::json, "access", spdlog::level::info, "m"));
  EXPECT_EQ(json.at("route"), "/push");
  EXPECT_EQ(json.at("status"), 202);
  EXPECT_EQ(json.at("ms"), 1.5);
  EXPECT_EQ(json.at("note"), "has space");
  EXPECT_TRUE(json.at("bad").is_null());
}

TEST(ScopedFields, NestAndRestore) {
  const Field outer[] = {{"a", std::string_view("1")}};
  const Field inner[] = {{"b", std::string_view("2")}};
  {
    ScopedFields s1(outer);
    {
      ScopedFields s2(inner);
      EXPECT_EQ(format_record(config::LogFormat::text, "x", spdlog::level::info, "m"),
                "2026-11-23T14:32:24.123Z info [x] m b=2\n");
    }
    EXPECT_EQ(format_record(config::LogFormat::text, "x", spdlog::level::info, "m"),
              "2026-11-23T14:32:24.123Z info [x] m a=1\n");
  }
  EXPECT_EQ(format_record(config::LogFormat::text, "x", spdlog::level::info, "m"),
            "2026-11-23T14:32:24.123Z info [x] m\n");
}

TEST(JsonQuote, EscapesPerRfc8259AndReplacesInvalidUtf8) {
  EXPECT_EQ(json_quote("plain"), "\"plain\"");
  EXPECT_EQ(json_quote("\"\\\n\r\t\b\f\x01\x1f"), "\"\\\"\\\\\\n\\r\\t\\b\\f\\u0001\\u001f\"");
  EXPECT_EQ(json_quote("caf\xC3\xA9 \xF0\x9F\x98\x80"), "\"caf\xC3\xA9 \xF0\x9F\x98\x80\"");
  EXPECT_EQ(json_quote("\xC3"), "\"\xEF\xBF\xBD\"");        // truncated
  EXPECT_EQ(json_quote("\xED\xA0\x80"), "\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\"");  // surrogate
  EXPECT_EQ(json_quote("\xF4\x90\x80\x80"), "\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\"");  // > U+10FFFF
  // Whatever the bytes, the result parses as JSON.
  std::string all_bytes;
  for (int c = 0; c < 256; ++c) all_bytes.push_back(static_cast<char>(c));
  nlohmann::json parsed;
  EXPECT_NO_THROW(parsed = nlohmann::json::parse(json_quote(all_bytes)));
  EXPECT_TRUE(parsed.is_string());
}

TEST(EscapeText, EscapesControlCharactersOnly) {
  EXPECT_EQ(escape_text("a \"quoted\" \\ path"), "a \"quoted\" \\ path");
  EXPECT_EQ(escape_text("line1\nline2\r\t\x1b[31m\x7f"), "line1\\nline2\\r\\t\\x1b[31m\\x7f");
  EXPECT_EQ(escape_text("caf\xC3\xA9 \xFF"), "caf\xC3\xA9 \xEF\xBF\xBD");
}

}  // namespace
}  // namespace pushgw::log
