#include "pushgw/log/log.hpp"

#include <spdlog/sinks/dist_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <mutex>
#include <stdexcept>
#include <utility>

#include "pushgw/log/format.hpp"

namespace pushgw::log {

namespace {

constexpr std::string_view kDefaultLoggerName = "pushgw";
constexpr std::string_view kAccessLoggerName = "access";

constexpr std::array<std::pair<std::string_view, spdlog::level::level_enum>, 7> kLevels{{
    {"trace", spdlog::level::trace},
    {"debug", spdlog::level::debug},
    {"info", spdlog::level::info},
    {"warn", spdlog::level::warn},
    {"error", spdlog::level::err},
    {"critical", spdlog::level::critical},
    {"off", spdlog::level::off},
}};

// Every pushgw logger writes to this one dist sink, so setup_logging() can swap the real sink
// and its format under all existing loggers at once (dist_sink::set_sinks takes its lock).
struct State {
  std::mutex mutex;  // serialises logger creation and setup
  std::shared_ptr<spdlog::sinks::dist_sink_mt> dist = std::make_shared<spdlog::sinks::dist_sink_mt>();
  std::atomic<spdlog::level::level_enum> level{spdlog::level::info};
  std::atomic<bool> redact{true};
  std::atomic<bool> access_enabled{true};
  std::shared_ptr<spdlog::logger> access;  // set once here: access_log() reads it without the lock

  State() {
    auto stderr_sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    stderr_sink->set_formatter(std::make_unique<LineFormatter>(config::LogFormat::text));
    dist->set_sinks({std::move(stderr_sink)});
    access = get_or_create(std::string(kAccessLoggerName));
  }

  // The access logger follows its own switch, not the level: `access_log: true` with
  // `level: warn` still logs requests.
  spdlog::level::level_enum access_level() const {
    if (!access_enabled.load()) return spdlog::level::off;
    return std::min(level.load(), spdlog::level::info);
  }

  // Caller holds mutex (or is the constructor).
  std::shared_ptr<spdlog::logger> get_or_create(const std::string& component) {
    if (auto existing = spdlog::get(component)) return existing;
    auto logger = std::make_shared<spdlog::logger>(component, dist);
    logger->set_level(component == kAccessLoggerName ? access_level() : level.load());
    spdlog::register_logger(logger);
    return logger;
  }
};

State& state() {
  static State s;
  return s;
}

}  // namespace

spdlog::level::level_enum parse_level(std::string_view name) {
  for (const auto& [level_name, level] : kLevels) {
    if (level_name == name) return level;
  }
  throw std::invalid_argument("unknown log level \"" + std::string(name) +
                              "\" (expected trace, debug, info, warn, error, critical or off)");
}

std::string_view level_name(spdlog::level::level_enum level) {
  for (const auto& [name, value] : kLevels) {
    if (value == level) return name;
  }
  return "off";
}

void setup_logging(const config::LogConfig& config) {
  setup_logging(config, std::make_shared<spdlog::sinks::stderr_sink_mt>());
}

void setup_logging(const config::LogConfig& config, spdlog::sink_ptr sink) {
  const spdlog::level::level_enum level = parse_level(config.level);  // throws before any change
  if (!sink) throw std::invalid_argument("setup_logging: sink is null");
  sink->set_formatter(std::make_unique<LineFormatter>(config.format));
  sink->set_level(spdlog::level::trace);  // the loggers filter

  State& s = state();
  std::lock_guard lock(s.mutex);
  s.dist->set_sinks({std::move(sink)});
  s.level = level;
  s.redact = config.redact_tokens;
  s.access_enabled = config.access_log;

  // Every registered logger (ours and any created through spdlog directly) gets the level.
  spdlog::set_level(level);
  s.access->set_level(s.access_level());

  auto default_logger = s.get_or_create(std::string(kDefaultLoggerName));
  if (spdlog::default_logger() != default_logger) spdlog::set_default_logger(std::move(default_logger));
}

std::shared_ptr<spdlog::logger> get(const std::string& component) {
  State& s = state();
  std::lock_guard lock(s.mutex);
  return s.get_or_create(component);
}

std::string redact_token(std::string_view token, bool redact) {
  if (!redact) return std::string(token);
  const std::string length = "(len " + std::to_string(token.size()) + ")";
  if (token.size() < 12) return length;
  return std::string(token.substr(0, 6)) + "\xE2\x80\xA6" + length;  // U+2026 "…"
}

void set_token_redaction(bool enabled) { state().redact = enabled; }

bool token_redaction_enabled() { return state().redact.load(); }

std::string token(std::string_view token) { return redact_token(token, token_redaction_enabled()); }

bool access_log_enabled() { return state().access_enabled.load(); }

std::string target_without_credentials(std::string_view target) {
  std::string out(target);
  std::size_t pos = out.find('?');
  while (pos != std::string::npos) {
    const std::size_t name = pos + 1;
    const std::size_t end = std::min(out.find('&', name), out.size());
    if (out.compare(name, 6, "token=") == 0 && end > name + 6) {
      out.replace(name + 6, end - name - 6, "REDACTED");
    }
    pos = out.find('&', name);
  }
  return out;
}

void access_log(std::string_view route, std::string_view method, std::string_view raw_target, int status,
                double duration_seconds, std::uint64_t request_body_bytes, std::string_view remote) {
  if (!access_log_enabled()) return;
  spdlog::logger& logger = *state().access;
  if (!logger.should_log(spdlog::level::info)) return;
  const std::string redacted = target_without_credentials(raw_target);
  const std::string_view target = redacted;
  const double duration_ms = std::round(duration_seconds * 1e6) / 1e3;  // microsecond precision
  const Field fields[] = {
      {"route", route},
      {"method", method, true},
      {"target", target, true},
      {"status", std::int64_t{status}, true},
      {"duration_ms", duration_ms},
      {"request_bytes", static_cast<std::int64_t>(request_body_bytes)},
      {"remote", remote},
  };
  ScopedFields scoped(fields);
  // The method and target come from the client: the formatter escapes them.
  logger.info("{} {} {}", method, target, status);
}

}  // namespace pushgw::log
