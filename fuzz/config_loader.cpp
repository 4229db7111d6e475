// Fuzzes the config loader (config::parse_config: YAML, ${VAR} substitution, every section's
// checks). Traps when
//   - parsing the same text twice gives a different config or different errors;
//   - a result has both a config and errors, or neither;
//   - errors are not in file order (those without a line last), or name a line outside the text;
//   - an accepted config breaks a rule the loader enforces (an accepted config must pass its
//     own checks again: Redis URL, endpoints, app names and providers, min <= max pairs).

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>

#include "pushgw/config/config.hpp"
#include "pushgw/job/validate.hpp"

namespace {

using namespace pushgw;

// A fixed environment, so that every run of an input reads the same values.
std::optional<std::string> fuzz_env(const std::string& name) {
  if (name == "PUSHGW_API_KEY") return "fuzz-key";
  if (name == "REDIS_URL") return "redis://:secret@127.0.0.1:6380/2";
  if (name == "EMPTY") return "";
  return std::nullopt;
}

bool same_errors(const std::vector<config::ConfigError>& a, const std::vector<config::ConfigError>& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](const auto& x, const auto& y) {
    return x.path == y.path && x.line == y.line && x.message == y.message;
  });
}

void check_errors(const std::vector<config::ConfigError>& errors, const std::string& text) {
  const auto lines = static_cast<int>(std::count(text.begin(), text.end(), '\n')) + 1;
  const auto order = [](int line) { return line > 0 ? line : std::numeric_limits<int>::max(); };
  int previous = 0;
  for (const auto& error : errors) {
    if (error.line < 0 || error.line > lines || error.message.empty()) __builtin_trap();
    if (order(error.line) < previous) __builtin_trap();
    previous = order(error.line);
    if (config::format_error("pushgw.yaml", error).empty()) __builtin_trap();
  }
}

bool valid_https(const std::string& endpoint) {
  return config::parse_https_endpoint(endpoint, nullptr).has_value();
}

void check_config(const config::Config& config) {
  if (!config::parse_redis_url(config.redis.url, nullptr)) __builtin_trap();
  if (config.redis.reconnect_max < config.redis.reconnect_min) __builtin_trap();
  if (config.retries.backoff_max < config.retries.backoff_min) __builtin_trap();
  if (config.limits.job_split_size > config.limits.max_tokens_per_notification) __builtin_trap();
  if (config.limits.max_pending_body_bytes < config.limits.max_body_bytes) __builtin_trap();
  if (config.queue.send_threads > 64 || config.apps.empty()) __builtin_trap();
  if (std::any_of(config.api_keys.begin(), config.api_keys.end(), [](const auto& key) { return key.empty(); })) {
    __builtin_trap();
  }
  for (const auto& [name, app] : config.apps) {
    if (name != app.name || name.empty() || name.size() > 64 || (!app.apns && !app.fcm)) __builtin_trap();
    if (app.apns && !valid_https(app.apns->endpoint)) __builtin_trap();
    if (app.fcm && (!valid_https(app.fcm->endpoint) || app.fcm->service_account_file.empty())) __builtin_trap();
  }
  const auto context = job::ValidationContext::from_config(config);
  if (context.apps.size() != config.apps.size()) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const auto result = config::parse_config(text, &fuzz_env, "/etc/pushgw");
  const auto again = config::parse_config(text, &fuzz_env, "/etc/pushgw");
  if (result.config != again.config || !same_errors(result.errors, again.errors)) __builtin_trap();
  if (result.config.has_value() == !result.errors.empty()) __builtin_trap();
  check_errors(result.errors, text);
  if (result.config) check_config(*result.config);
  return 0;
}
