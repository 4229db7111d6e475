#pragma once
// Logging for every pushgw module: spdlog loggers per component that share one sink and one
// format, set up from the `logging:` config section.
//
//   auto logger = pushgw::log::get("redis");    // keep it: get() takes a lock
//   logger->info("connected to {}", endpoint);
//   logger->warn("BadDeviceToken for {}", pushgw::log::token(device_token));
//
// Device tokens are redacted by default (before setup_logging too).

#include <spdlog/common.h>
#include <spdlog/logger.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "pushgw/config/config.hpp"

namespace pushgw::log {

// "trace" | "debug" | "info" | "warn" | "error" | "critical" | "off"; anything else throws
// std::invalid_argument naming the value and the accepted ones.
spdlog::level::level_enum parse_level(std::string_view name);
std::string_view level_name(spdlog::level::level_enum level);

// Sends every pushgw logger (and spdlog's default logger, named "pushgw") to stderr in the
// configured format and level, and applies the redaction and access-log switches. Throws
// std::invalid_argument on an unknown level, changing nothing. Safe to call again.
void setup_logging(const config::LogConfig& config);
// The same, writing to `sink` instead of stderr (tests pass an ostream sink).
void setup_logging(const config::LogConfig& config, spdlog::sink_ptr sink);

// The logger of a component ("redis", "apns", ...), created on first use with the shared sink
// and the configured level.
std::shared_ptr<spdlog::logger> get(const std::string& component);

// A device token as it may appear in a log line. Redacted: the first 6 characters, "…" and
// the length ("a1b2c3…(len 64)"); tokens shorter than 12 characters show only "(len N)".
std::string redact_token(std::string_view token, bool redact);
// The global switch setup_logging sets from LogConfig::redact_tokens (default on).
void set_token_redaction(bool enabled);
bool token_redaction_enabled();
// redact_token(token, token_redaction_enabled()).
std::string token(std::string_view token);

// One line per HTTP request on the "access" logger, if LogConfig::access_log is on:
//   text: ... info [access] POST /push 202 route=/push duration_ms=1.234 request_bytes=87 remote=10.0.0.5:4711
//   json: {..., "logger":"access","msg":"POST /push 202","route":"/push","method":"POST","target":"/push",
//          "status":202,"duration_ms":1.234,"request_bytes":87,"remote":"10.0.0.5:4711"}
// duration_seconds as in http::CompletedRequest::seconds; request_body_bytes is what the
// client sent. The value of a `token` query parameter (a live web client's credential) is
// written as "REDACTED" (target_without_credentials).
void access_log(std::string_view route, std::string_view method, std::string_view target, int status,
                double duration_seconds, std::uint64_t request_body_bytes, std::string_view remote);
bool access_log_enabled();
// `target` with the value of every `token=` query parameter replaced by REDACTED.
std::string target_without_credentials(std::string_view target);

}  // namespace pushgw::log
