#include "pushgw/log/format.hpp"

#include <fmt/format.h>

#include "pushgw/common/utf8.hpp"

#include <cmath>
#include <ctime>
#include <iterator>

namespace pushgw::log {

namespace {

thread_local std::span<const Field> current_fields;

template <class Out>
void append(Out& out, std::string_view s) {
  out.append(s.data(), s.data() + s.size());
}

template <class Out>
void append_json_string(Out& out, std::string_view s) {
  append(out, "\"");
  common::append_utf8_sanitized(out, s, [](Out& o, char c) {
    switch (c) {
      case '"': append(o, "\\\""); break;
      case '\\': append(o, "\\\\"); break;
      case '\n': append(o, "\\n"); break;
      case '\r': append(o, "\\r"); break;
      case '\t': append(o, "\\t"); break;
      case '\b': append(o, "\\b"); break;
      case '\f': append(o, "\\f"); break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          fmt::format_to(std::back_inserter(o), "\\u{:04x}", static_cast<unsigned>(c));
        } else {
          o.push_back(c);
        }
    }
  });
  append(out, "\"");
}

template <class Out>
void append_text_escaped(Out& out, std::string_view s) {
  common::append_utf8_sanitized(out, s, [](Out& o, char c) {
    switch (c) {
      case '\n': append(o, "\\n"); break;
      case '\r': append(o, "\\r"); break;
      case '\t': append(o, "\\t"); break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) {
          fmt::format_to(std::back_inserter(o), "\\x{:02x}", static_cast<unsigned>(static_cast<unsigned char>(c)));
        } else {
          o.push_back(c);
        }
    }
  });
}

std::string_view short_level_name(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace: return "trace";
    case spdlog::level::debug: return "debug";
    case spdlog::level::info: return "info";
    case spdlog::level::warn: return "warn";
    case spdlog::level::err: return "error";
    case spdlog::level::critical: return "critical";
    default: return "off";
  }
}

void append_timestamp(spdlog::memory_buf_t& out, std::chrono::system_clock::time_point time) {
  const auto since_epoch = time.time_since_epoch();
  const auto seconds = std::chrono::floor<std::chrono::seconds>(since_epoch);
  const auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(since_epoch - seconds).count();
  const std::time_t t = static_cast<std::time_t>(seconds.count());
  std::tm tm{};
  gmtime_r(&t, &tm);
  fmt::format_to(std::back_inserter(out), "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, millis);
}

// key=value; values with spaces, quotes or '=' (or empty) are JSON-quoted to stay parseable.
void append_text_field(spdlog::memory_buf_t& out, const Field& field) {
  append(out, " ");
  append_text_escaped(out, field.key);
  append(out, "=");
  if (const auto* s = std::get_if<std::string_view>(&field.value)) {
    if (s->empty() || s->find_first_of(" \"=") != std::string_view::npos) {
      append_json_string(out, *s);
    } else {
      append_text_escaped(out, *s);
    }
  } else if (const auto* i = std::get_if<std::int64_t>(&field.value)) {
    fmt::format_to(std::back_inserter(out), "{}", *i);
  } else {
    fmt::format_to(std::back_inserter(out), "{}", std::get<double>(field.value));
  }
}

void append_json_field(spdlog::memory_buf_t& out, const Field& field) {
  append(out, ",");
  append_json_string(out, field.key);
  append(out, ":");
  if (const auto* s = std::get_if<std::string_view>(&field.value)) {
    append_json_string(out, *s);
  } else if (const auto* i = std::get_if<std::int64_t>(&field.value)) {
    fmt::format_to(std::back_inserter(out), "{}", *i);
  } else if (const double d = std::get<double>(field.value); std::isfinite(d)) {
    fmt::format_to(std::back_inserter(out), "{}", d);
  } else {
    append(out, "null");  // JSON has no NaN or infinity
  }
}

}  // namespace

ScopedFields::ScopedFields(std::span<const Field> fields) : previous_(current_fields) { current_fields = fields; }

ScopedFields::~ScopedFields() { current_fields = previous_; }

void LineFormatter::format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) {
  const std::string_view logger(msg.logger_name.data(), msg.logger_name.size());
  const std::string_view text(msg.payload.data(), msg.payload.size());
  if (format_ == config::LogFormat::json) {
    append(dest, "{\"ts\":\"");
    append_timestamp(dest, msg.time);
    append(dest, "\",\"level\":\"");
    append(dest, short_level_name(msg.level));
    append(dest, "\",\"logger\":");
    append_json_string(dest, logger);
    append(dest, ",\"msg\":");
    append_json_string(dest, text);
    for (const Field& field : current_fields) append_json_field(dest, field);
    append(dest, "}\n");
    return;
  }
  append_timestamp(dest, msg.time);
  append(dest, " ");
  append(dest, short_level_name(msg.level));
  append(dest, " ");
  if (!logger.empty()) {
    append(dest, "[");
    append_text_escaped(dest, logger);
    append(dest, "] ");
  }
  append_text_escaped(dest, text);
  for (const Field& field : current_fields) {
    if (!field.json_only) append_text_field(dest, field);
  }
  append(dest, "\n");
}

std::unique_ptr<spdlog::formatter> LineFormatter::clone() const { return std::make_unique<LineFormatter>(format_); }

std::string format_timestamp(std::chrono::system_clock::time_point time) {
  spdlog::memory_buf_t buf;
  append_timestamp(buf, time);
  return std::string(buf.data(), buf.size());
}

std::string json_quote(std::string_view s) {
  std::string out;
  append_json_string(out, s);
  return out;
}

std::string escape_text(std::string_view s) {
  std::string out;
  append_text_escaped(out, s);
  return out;
}

}  // namespace pushgw::log
