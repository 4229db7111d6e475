#pragma once
// pushgw's configuration: plain structs with defaults, filled from YAML by load_config().
// Every key has a default; unknown keys are errors; errors name the key path and the line.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace pushgw::config {

using std::chrono::milliseconds;

struct ListenAddress {
  std::string host = "0.0.0.0";
  std::uint16_t port = 8088;
};

struct RedisConfig {
  std::string url = "redis://127.0.0.1:6379/0";  // redis://[[user]:password@]host:port/db
  std::string prefix = "pushgw";                  // every key starts with "<prefix>:"
  milliseconds connect_timeout{2000};
  milliseconds command_timeout{2000};
  milliseconds reconnect_min{100};                 // reconnect backoff, doubling up to max
  milliseconds reconnect_max{5000};
};

struct LimitsConfig {
  std::size_t max_body_bytes = 1024 * 1024;        // POST body; larger → 413
  std::size_t max_header_bytes = 16 * 1024;        // request line + headers
  std::size_t max_notifications_per_request = 1000;
  std::size_t max_tokens_per_notification = 100000;
  std::size_t job_split_size = 500;                // tokens per stored job
  std::size_t max_connections = 1024;              // concurrent HTTP connections
  milliseconds read_timeout{10000};                // to receive one whole request
  milliseconds idle_timeout{60000};                // keep-alive connection with no request
};

enum class LogFormat { text, json };

struct LogConfig {
  std::string level = "info";                      // trace|debug|info|warn|error|critical|off
  LogFormat format = LogFormat::text;
  bool redact_tokens = true;                       // device tokens shortened in every log line
  bool access_log = true;                          // one line per HTTP request
};

struct ApnsAuthConfig {
  enum class Type { token, certificate };
  Type type = Type::token;
  // token auth (.p8 ES256 key)
  std::string key_file;
  std::string key_id;
  std::string team_id;
  // certificate auth (PEM cert + key, or PKCS#12 in cert_file with key_file empty)
  std::string cert_file;
  std::string cert_password;
};

struct ApnsConfig {
  std::string endpoint = "https://api.push.apple.com";
  std::string ca_file;                             // empty = system store
  std::string topic;                               // default apns-topic (bundle id)
  ApnsAuthConfig auth;
  std::size_t connections = 4;
  std::size_t max_inflight = 1000;                 // requests in flight over all connections
  milliseconds request_timeout{10000};
  milliseconds ping_interval{60000};               // 0 = no PING
};

struct FcmConfig {
  std::string endpoint = "https://fcm.googleapis.com";
  std::string ca_file;
  std::string service_account_file;                // its project_id and token_uri are used
  std::size_t connections = 8;
  std::size_t max_inflight = 1000;
  milliseconds request_timeout{10000};
  milliseconds ping_interval{0};                   // FCM closes connections that only ping
};

struct AppConfig {
  std::string name;
  std::optional<ApnsConfig> apns;
  std::optional<FcmConfig> fcm;
};

struct Config {
  ListenAddress listen;
  std::vector<std::string> api_keys;               // empty = no auth (warned at start-up)
  RedisConfig redis;
  LimitsConfig limits;
  LogConfig logging;
  std::map<std::string, AppConfig> apps;
  std::string instance_id;                         // empty = hostname + pid
  milliseconds shutdown_timeout{10000};            // SIGTERM: drain deadline
};

// One problem found in a config file.
// The parts of a redis:// URL.
struct RedisEndpoint {
  std::string host = "127.0.0.1";
  std::uint16_t port = 6379;
  std::string username;   // empty = default user
  std::string password;   // empty = no AUTH
  int db = 0;
  bool operator==(const RedisEndpoint&) const = default;
};

// Parses redis://[[user]:password@]host[:port][/db]; on failure returns nullopt and sets
// *error to what is wrong ("port must be 1-65535", ...). Percent-escapes in the password
// are decoded.
std::optional<RedisEndpoint> parse_redis_url(const std::string& url, std::string* error);

// One problem found in a config file.
struct ConfigError {
  std::string path;     // key path, e.g. "apps.demo.apns.connections"
  int line = 0;         // 1-based line in the file; 0 when unknown
  std::string message;  // what is wrong, e.g. "must be a positive integer, got \"four\""
};

struct LoadResult {
  std::optional<Config> config;        // set only when errors is empty
  std::vector<ConfigError> errors;
};

// Looks up an environment variable; injectable so tests need no real environment.
using EnvLookup = std::optional<std::string> (*)(const std::string& name);
std::optional<std::string> process_env(const std::string& name);

// Parses YAML text. `${VAR}` and `${VAR:-default}` are substituted in scalar values.
LoadResult parse_config(const std::string& yaml_text, EnvLookup env = &process_env);
// Reads and parses a file; a missing/unreadable file is one error with path "" and line 0.
LoadResult load_config(const std::string& file_path, EnvLookup env = &process_env);

// "file:line: path: message", the format `pushgw check-config` prints.
std::string format_error(const std::string& file, const ConfigError& error);

}  // namespace pushgw::config
