#pragma once
// How one log record becomes one line, in the two formats LogConfig offers:
//   text: 2026-11-23T14:32:24.123Z info [redis] connected to 127.0.0.1:6379
//   json: {"ts":"2026-11-23T14:32:24.123Z","level":"info","logger":"redis","msg":"connected ..."}
// A record is always one line: the text format escapes control characters (so a newline in
// a logged value cannot forge a second record), the json format escapes per RFC 8259, and
// both replace invalid UTF-8 with U+FFFD.

#include <spdlog/formatter.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <variant>

#include "pushgw/config/config.hpp"

namespace pushgw::log {

// A structured key/value attached to the record logged on this thread (see ScopedFields).
struct Field {
  std::string_view key;
  std::variant<std::string_view, std::int64_t, double> value;
  bool json_only = false;  // the text message already says it
};

// Attaches fields to every record logged on this thread while it lives. Works because
// pushgw's loggers are synchronous: the sink formats on the calling thread.
class ScopedFields {
 public:
  explicit ScopedFields(std::span<const Field> fields);
  ~ScopedFields();
  ScopedFields(const ScopedFields&) = delete;
  ScopedFields& operator=(const ScopedFields&) = delete;

 private:
  std::span<const Field> previous_;
};

class LineFormatter final : public spdlog::formatter {
 public:
  explicit LineFormatter(config::LogFormat format) : format_(format) {}
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override;
  std::unique_ptr<spdlog::formatter> clone() const override;

 private:
  config::LogFormat format_;
};

// "2026-11-23T14:32:24.123Z" (UTC, milliseconds).
std::string format_timestamp(std::chrono::system_clock::time_point time);

// s as a JSON string literal, quotes included.
std::string json_quote(std::string_view s);

// s with control characters escaped (\n, \r, \t, \xNN) and invalid UTF-8 replaced.
std::string escape_text(std::string_view s);

}  // namespace pushgw::log
