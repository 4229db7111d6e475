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
  bool operator==(const ListenAddress&) const = default;
};

// A server's address, e.g. one of redis.sentinel.nodes.
struct HostPort {
  std::string host;
  std::uint16_t port = 0;
  bool operator==(const HostPort&) const = default;
};

// Redis Sentinel: the sentinels say which server is the master.
struct RedisSentinelConfig {
  std::string master;             // the name the sentinels monitor it by (`sentinel monitor <name> ...`)
  std::vector<HostPort> nodes;    // the sentinels; set = Sentinel mode (redis.url then names no host)
  bool operator==(const RedisSentinelConfig&) const = default;
};

// Redis Cluster: the seeds the slot map is read from.
struct RedisClusterConfig {
  std::vector<HostPort> nodes;    // set = Cluster mode (redis.url then names no host; db 0)
  bool operator==(const RedisClusterConfig&) const = default;
};

// TLS to Redis, for a rediss:// URL.
struct RedisTlsConfig {
  std::string ca_file;      // PEM CA bundle the server's certificate must chain to; empty = system store
  std::string cert_file;    // client certificate (PEM), for servers that require one; with key_file
  std::string key_file;     // its private key (PEM, unencrypted)
  std::string server_name;  // name sent in SNI and checked in the certificate; empty = the URL's host
  bool operator==(const RedisTlsConfig&) const = default;
};

struct RedisConfig {
  std::string url = "redis://127.0.0.1:6379/0";  // redis[s]://[[user]:password@]host:port/db
  RedisTlsConfig tls;
  RedisSentinelConfig sentinel;
  RedisClusterConfig cluster;
  std::string prefix = "pushgw";                  // every key starts with "<prefix>:"
  milliseconds connect_timeout{2000};
  milliseconds command_timeout{2000};
  milliseconds reconnect_min{100};                 // reconnect backoff, doubling up to max
  milliseconds reconnect_max{5000};
  bool operator==(const RedisConfig&) const = default;
};

struct LimitsConfig {
  std::size_t max_body_bytes = 1024 * 1024;        // POST body; larger → 413
  std::size_t max_header_bytes = 16 * 1024;        // request line + headers
  std::size_t max_notifications_per_request = 1000;
  std::size_t max_tokens_per_notification = 100000;
  std::size_t job_split_size = 500;                // tokens per stored job
  std::size_t max_pending_body_bytes = 64 * 1024 * 1024;  // all unfinished request bodies; over → 503
  std::size_t max_connections = 1024;              // concurrent HTTP connections
  std::size_t probe_connections = 16;              // more, over max_connections, for GET /healthz|/readyz|/metrics
  milliseconds header_timeout{5000};               // request line + headers, from their first byte
  std::size_t min_receive_rate = 16 * 1024;        // body bytes/s on average (after header_timeout)
  milliseconds read_timeout{10000};                // to receive one whole request
  milliseconds idle_timeout{60000};                // keep-alive connection with no request
  // Back-pressure: when a lane the request's jobs go to holds more jobs than this, POST /push
  // and /api/push answer 429 with Retry-After and store nothing. 0 = off.
  std::size_t max_queue_depth = 0;
  bool operator==(const LimitsConfig&) const = default;
};

enum class LogFormat { text, json };

struct LogConfig {
  std::string level = "info";                      // trace|debug|info|warn|error|critical|off
  LogFormat format = LogFormat::text;
  bool redact_tokens = true;                       // device tokens shortened in every log line
  bool access_log = true;                          // one line per HTTP request
  bool operator==(const LogConfig&) const = default;
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
  bool operator==(const ApnsAuthConfig&) const = default;
};

// A provider's circuit breaker (dispatch/flow_control.hpp): among the sends of the last
// `window`, at least min_requests answered and this share failing (5xx, 429, timeouts, lost
// connections) open it, as does a credentials error; the app's jobs for that provider wait in
// the retry ZSET for open_for, then one job probes. error_ratio 0 = off.
struct BreakerConfig {
  double error_ratio = 0.5;
  std::size_t min_requests = 100;
  milliseconds open_for{30000};
  milliseconds window{10000};
  bool operator==(const BreakerConfig&) const = default;
};

struct ApnsConfig {
  std::string endpoint = "https://api.push.apple.com";
  std::string ca_file;                             // empty = system store
  std::string topic;                               // default apns-topic (bundle id)
  // Broadcast channel management (pushgw channels); "" = Apple's management host for Apple's
  // push hosts, else `endpoint` (apns::channels_endpoint).
  std::string channels_endpoint;
  ApnsAuthConfig auth;
  std::size_t connections = 4;
  std::size_t max_inflight = 1000;                 // requests in flight over all connections
  milliseconds request_timeout{10000};
  milliseconds ping_interval{60000};               // 0 = no PING
  std::size_t rate_limit = 0;                      // sends per second; 0 = no limit
  BreakerConfig breaker;
  bool operator==(const ApnsConfig&) const = default;
};

struct FcmConfig {
  std::string endpoint = "https://fcm.googleapis.com";
  std::string ca_file;
  std::string service_account_file;                // its project_id and token_uri are used
  std::size_t connections = 8;
  std::size_t max_inflight = 1000;
  milliseconds request_timeout{10000};
  milliseconds ping_interval{0};                   // FCM closes connections that only ping
  // Sends per second; 0 = no limit. FCM's default quota is 600,000 messages a minute per
  // project: this default keeps an instance within it.
  std::size_t rate_limit = 10000;
  BreakerConfig breaker;
  bool operator==(const FcmConfig&) const = default;
};

// How workers take jobs from Redis (the queue module) and recover them after a crash.
struct QueueConfig {
  bool consume = true;                             // false: intake only (POST /push), no workers
  std::size_t workers = 1024;                      // jobs in progress at once, all lanes together
  // Bytes of job text in progress at once (a decoded job takes a few times its text): with
  // small jobs `workers` is the limit, with big ones this. A bigger job runs alone.
  std::size_t in_progress_bytes = 4 * 1024 * 1024;
  // Threads that run the APNs/FCM connections (the sends), beside the main thread (HTTP API,
  // Redis, job handling); each provider lives on one of them. 0 = all on the main thread.
  std::size_t send_threads = 1;
  std::size_t batch = 64;                          // jobs moved from a lane's queue in one step
  // Share of free workers each lane gets while several have a backlog: high, default, bulk.
  std::size_t weight_high = 8;
  std::size_t weight_default = 4;
  std::size_t weight_bulk = 1;
  milliseconds block_timeout{1000};                // how long one blocking fetch waits
  milliseconds poll_interval{250};                 // retry/scheduled jobs coming due are moved this often
  milliseconds heartbeat_interval{2000};           // this instance refreshes its heartbeat key
  milliseconds heartbeat_ttl{10000};               // an instance silent this long is dead: its jobs return
  milliseconds reaper_interval{5000};              // how often an instance looks for dead ones
  std::size_t max_redeliveries = 5;                // a job recovered more often is dead-lettered
  milliseconds idempotency_ttl{86400000};          // a notification `id` is sent once within this
  // While a job's sends go on, its processing element is replaced this often by what has no
  // recorded outcome yet (with the retries and dead letters of what has): a crash re-sends at
  // most the sends in flight and this interval's worth. 0 = off (a crash re-sends jobs whole).
  milliseconds checkpoint_interval{1000};
  bool operator==(const QueueConfig&) const = default;
};

// Transient failures (429, 5xx, timeouts, connection loss): exponential backoff with jitter.
struct RetriesConfig {
  std::size_t max_attempts = 8;                    // sends per token, the first one included
  milliseconds backoff_min{1000};                  // delay after the first failure, doubling...
  milliseconds backoff_max{300000};                // ...up to this (Retry-After may ask for more)
  bool operator==(const RetriesConfig&) const = default;
};

// feedback.webhook: pushgw POSTs the feedback events there, signed (DESIGN.md §5 "Feedback").
struct WebhookConfig {
  std::string url;                                 // http(s)://...; "" = off
  std::string secret;                              // the HMAC-SHA256 key; required with a url
  std::size_t batch = 100;                         // events per request, at most
  std::chrono::milliseconds interval{1000};        // how often to look for events when idle
  std::chrono::milliseconds timeout{5000};         // per request: connect, send, answer
  bool operator==(const WebhookConfig&) const = default;
};

// Dead-token reports for backends (the pushgw:feedback list) and the inactive-token marks.
struct FeedbackConfig {
  std::size_t max_events = 100000;                 // the list is trimmed to this many
  // A mark older than this no longer counts (the token is sent to again) and is removed.
  std::chrono::milliseconds inactive_ttl{90LL * 24 * 3600 * 1000};
  WebhookConfig webhook;
  bool operator==(const FeedbackConfig&) const = default;
};

// web: live delivery to browsers and in-app sessions over SSE and WebSocket (DESIGN.md §5
// "Live web delivery"), platform `web`.
struct WebConfig {
  bool enabled = false;
  std::string secret;                              // HS256 key of client tokens; required when enabled
  std::vector<std::string> allowed_origins;        // [] = any origin; else exact "scheme://host[:port]"
  std::size_t history = 100;                       // messages kept per channel for resume
  std::chrono::milliseconds history_ttl{3600 * 1000};  // a channel's history expires this long after its last message
  std::chrono::milliseconds ping_interval{25000};  // SSE comment / WebSocket ping on idle connections
  std::size_t max_connections = 100000;
  std::size_t send_buffer = 64 * 1024;             // bytes queued for one client; beyond, it is dropped
  // Threads that write to live connections (sessions spread evenly over them, each message
  // handed once to each); 0 = on the main thread.
  std::size_t threads = 2;
  bool operator==(const WebConfig&) const = default;
};

struct AppConfig {
  std::string name;
  std::optional<ApnsConfig> apns;
  std::optional<FcmConfig> fcm;
  // Jobs of this app sending at once (the rest wait in the retry ZSET, a second at a time), so
  // that one app's slow or failing endpoint never holds every worker. 0 = half of
  // queue.workers when the config has several apps, no cap with one.
  std::size_t max_workers = 0;
  bool operator==(const AppConfig&) const = default;
};

struct Config {
  ListenAddress listen;
  std::vector<std::string> api_keys;               // empty = no auth (warned at start-up)
  RedisConfig redis;
  LimitsConfig limits;
  LogConfig logging;
  QueueConfig queue;
  RetriesConfig retries;
  FeedbackConfig feedback;
  WebConfig web;
  std::map<std::string, AppConfig> apps;
  std::string instance_id;                         // empty = hostname + pid
  milliseconds shutdown_timeout{10000};            // SIGTERM: drain deadline
  bool operator==(const Config&) const = default;
};

// The parts of a redis:// or rediss:// URL.
struct RedisEndpoint {
  std::string host = "127.0.0.1";
  std::uint16_t port = 6379;
  std::string username;   // empty = default user
  std::string password;   // empty = no AUTH
  int db = 0;
  bool tls = false;       // rediss://
  bool operator==(const RedisEndpoint&) const = default;
};

// Parses redis[s]://[[user]:password@]host[:port][/db]; on failure returns nullopt and sets
// *error to what is wrong ("port must be 1-65535", ...). Percent-escapes in the password
// are decoded.
// With HostRequired::no the host may be left out ("redis://:password@/0"), for Sentinel mode,
// where the sentinels name the server; the endpoint's host is then empty.
enum class HostRequired { yes, no };
std::optional<RedisEndpoint> parse_redis_url(const std::string& url, std::string* error,
                                             HostRequired host = HostRequired::yes);

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
// Relative file paths (ca_file, key_file, cert_file, service_account_file) are joined to
// `base_dir` when it is not empty. Never touches the filesystem.
LoadResult parse_config(const std::string& yaml_text, EnvLookup env = &process_env,
                        const std::string& base_dir = {});
// Reads and parses a file; a missing/unreadable file is one error with path "" and line 0.
// Relative file paths are resolved against the config file's directory (made absolute), and
// every referenced file must exist and be readable.
LoadResult load_config(const std::string& file_path, EnvLookup env = &process_env);

// "file:line: path: message", the format `pushgw check-config` prints.
std::string format_error(const std::string& file, const ConfigError& error);

// ---- Value parsers used by parse_config; also usable for command-line flags. ----
// Each returns nullopt on failure and sets *error (when not null) to what is wrong.

// A duration with a unit: "250ms", "10s", "2m", "1h", "1.5s", "1m30s". A bare number is an
// error (its message asks for a unit).
std::optional<milliseconds> parse_duration(const std::string& text, std::string* error);

// A byte count: 65536, "64KiB", "1MiB", "4KB" (KB/MB/GB = 1000^n, KiB/MiB/GiB = 1024^n).
std::optional<std::size_t> parse_size(const std::string& text, std::string* error);

// "host:port", "[::1]:8088" (IPv6 in brackets, stored without them) or ":8088" (all
// interfaces, host "0.0.0.0"). Port 1-65535.
std::optional<ListenAddress> parse_listen_address(const std::string& text, std::string* error);
// "host:port" or "[v6]:port"; the port is optional (default_port). The host is required.
std::optional<HostPort> parse_host_port(const std::string& text, std::uint16_t default_port, std::string* error);

// The parts of an https:// endpoint ("https://api.push.apple.com", "https://[::1]:8443").
struct HttpsEndpoint {
  std::string host;        // IPv6 without brackets
  std::uint16_t port = 443;
  bool operator==(const HttpsEndpoint&) const = default;
};
// Accepts https://host[:port] with an optional trailing "/"; no path, query or user info.
std::optional<HttpsEndpoint> parse_https_endpoint(const std::string& url, std::string* error);

// Replaces `${VAR}` and `${VAR:-default}` (default when VAR is unset or empty); `$${` gives a
// literal `${`. An unset VAR without a default is an error naming it.
std::optional<std::string> substitute_env(const std::string& text, EnvLookup env,
                                          std::string* error);

}  // namespace pushgw::config
