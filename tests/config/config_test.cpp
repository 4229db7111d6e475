#include "pushgw/config/config.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <ostream>

namespace pushgw::config {
// Readable failure output for ConfigError in EXPECT_THAT.
void PrintTo(const ConfigError& e, std::ostream* os) {
  *os << "{path \"" << e.path << "\", line " << e.line << ", \"" << e.message << "\"}";
}
}  // namespace pushgw::config

namespace {

namespace fs = std::filesystem;
using namespace pushgw::config;
using namespace std::chrono_literals;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::UnorderedElementsAre;

// The environment parse_config sees in these tests.
std::map<std::string, std::string>& fake_env() {
  static std::map<std::string, std::string> env;
  return env;
}
std::optional<std::string> fake_lookup(const std::string& name) {
  const auto it = fake_env().find(name);
  if (it == fake_env().end()) return std::nullopt;
  return it->second;
}

MATCHER_P3(IsError, path, line, message_part, "") {
  return arg.path == path && arg.line == line &&
         arg.message.find(message_part) != std::string::npos;
}

// The smallest valid app; appended to snippets that test something else.
const std::string kApp =
    "apps:\n"
    "  demo:\n"
    "    fcm:\n"
    "      service_account_file: /secrets/fcm.json\n";

class ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override { fake_env().clear(); }
  static LoadResult parse(const std::string& yaml, const std::string& base_dir = {}) {
    return parse_config(yaml, &fake_lookup, base_dir);
  }
  // Parses text that must be valid and returns the config.
  static Config parse_ok(const std::string& yaml, const std::string& base_dir = {}) {
    LoadResult result = parse(yaml, base_dir);
    for (const auto& e : result.errors) ADD_FAILURE() << format_error("test.yaml", e);
    if (!result.config) {
      ADD_FAILURE() << "no config";
      return {};
    }
    return *result.config;
  }
};

fs::path source_dir() {
  if (const char* dir = std::getenv("PUSHGW_SOURCE_DIR")) return dir;
  return fs::path(__FILE__).parent_path().parent_path().parent_path();
}

TEST_F(ConfigTest, ReadsEverySection) {
  fake_env()["PUSHGW_API_KEY"] = "k-from-env";
  const Config c = parse_ok(R"(listen: "[::1]:9090"
api_keys: ["${PUSHGW_API_KEY}", literal-key]
instance_id: worker-1
shutdown_timeout: 30s
redis:
  url: redis://:pw@10.0.0.5:6380/3
  prefix: pgw
  connect_timeout: 1s
  command_timeout: 750ms
  reconnect_min: 50ms
  reconnect_max: 2m
limits:
  max_body_bytes: 2MiB
  max_header_bytes: 8192
  max_notifications_per_request: 50
  max_tokens_per_notification: 2000
  job_split_size: 100
  max_pending_body_bytes: 32MiB
  max_connections: 64
  probe_connections: 0
  header_timeout: 2s
  min_receive_rate: 4KiB
  read_timeout: 5s
  idle_timeout: 1h
logging:
  level: debug
  format: json
  redact_tokens: false
  access_log: false
apps:
  demo:
    apns:
      endpoint: https://api.sandbox.push.apple.com/
      ca_file: /etc/ca.pem
      topic: com.example.demo
      auth: {type: token, key_file: /s/key.p8, key_id: ABC123DEFG, team_id: DEF123GHIJ}
      connections: 2
      max_inflight: 300
      request_timeout: 4s
      ping_interval: 0s
    fcm:
      endpoint: https://127.0.0.1:8443
      ca_file: /etc/ca2.pem
      service_account_file: /s/fcm.json
      connections: 3
      max_inflight: 400
      request_timeout: 6s
      ping_interval: 90s
  other:
    apns:
      auth:
        type: certificate
        cert_file: /s/cert.p12
        cert_password: hunter2
)");
  EXPECT_EQ(c.listen, (ListenAddress{"::1", 9090}));
  EXPECT_EQ(c.api_keys, (std::vector<std::string>{"k-from-env", "literal-key"}));
  EXPECT_EQ(c.instance_id, "worker-1");
  EXPECT_EQ(c.shutdown_timeout, 30s);

  EXPECT_EQ(c.redis.url, "redis://:pw@10.0.0.5:6380/3");
  EXPECT_EQ(c.redis.prefix, "pgw");
  EXPECT_EQ(c.redis.connect_timeout, 1s);
  EXPECT_EQ(c.redis.command_timeout, 750ms);
  EXPECT_EQ(c.redis.reconnect_min, 50ms);
  EXPECT_EQ(c.redis.reconnect_max, 2min);

  EXPECT_EQ(c.limits.max_body_bytes, 2u * 1024 * 1024);
  EXPECT_EQ(c.limits.max_header_bytes, 8192u);
  EXPECT_EQ(c.limits.max_notifications_per_request, 50u);
  EXPECT_EQ(c.limits.max_tokens_per_notification, 2000u);
  EXPECT_EQ(c.limits.job_split_size, 100u);
  EXPECT_EQ(c.limits.max_pending_body_bytes, 32u * 1024 * 1024);
  EXPECT_EQ(c.limits.max_connections, 64u);
  EXPECT_EQ(c.limits.probe_connections, 0u);
  EXPECT_EQ(c.limits.header_timeout, 2s);
  EXPECT_EQ(c.limits.min_receive_rate, 4096u);
  EXPECT_EQ(c.limits.read_timeout, 5s);
  EXPECT_EQ(c.limits.idle_timeout, 1h);

  EXPECT_EQ(c.logging.level, "debug");
  EXPECT_EQ(c.logging.format, LogFormat::json);
  EXPECT_FALSE(c.logging.redact_tokens);
  EXPECT_FALSE(c.logging.access_log);

  ASSERT_EQ(c.apps.size(), 2u);
  const AppConfig& demo = c.apps.at("demo");
  EXPECT_EQ(demo.name, "demo");
  ASSERT_TRUE(demo.apns);
  EXPECT_EQ(demo.apns->endpoint, "https://api.sandbox.push.apple.com");  // trailing '/' dropped
  EXPECT_EQ(demo.apns->ca_file, "/etc/ca.pem");
  EXPECT_EQ(demo.apns->topic, "com.example.demo");
  EXPECT_EQ(demo.apns->auth.type, ApnsAuthConfig::Type::token);
  EXPECT_EQ(demo.apns->auth.key_file, "/s/key.p8");
  EXPECT_EQ(demo.apns->auth.key_id, "ABC123DEFG");
  EXPECT_EQ(demo.apns->auth.team_id, "DEF123GHIJ");
  EXPECT_EQ(demo.apns->connections, 2u);
  EXPECT_EQ(demo.apns->max_inflight, 300u);
  EXPECT_EQ(demo.apns->request_timeout, 4s);
  EXPECT_EQ(demo.apns->ping_interval, 0s);
  ASSERT_TRUE(demo.fcm);
  EXPECT_EQ(demo.fcm->endpoint, "https://127.0.0.1:8443");
  EXPECT_EQ(demo.fcm->ca_file, "/etc/ca2.pem");
  EXPECT_EQ(demo.fcm->service_account_file, "/s/fcm.json");
  EXPECT_EQ(demo.fcm->connections, 3u);
  EXPECT_EQ(demo.fcm->max_inflight, 400u);
  EXPECT_EQ(demo.fcm->request_timeout, 6s);
  EXPECT_EQ(demo.fcm->ping_interval, 90s);

  const AppConfig& other = c.apps.at("other");
  ASSERT_TRUE(other.apns);
  EXPECT_FALSE(other.fcm);
  EXPECT_EQ(other.apns->auth.type, ApnsAuthConfig::Type::certificate);
  EXPECT_EQ(other.apns->auth.cert_file, "/s/cert.p12");
  EXPECT_EQ(other.apns->auth.cert_password, "hunter2");
  EXPECT_EQ(other.apns->endpoint, ApnsConfig{}.endpoint);
}

TEST_F(ConfigTest, MissingSectionsKeepDefaults) {
  const Config c = parse_ok(kApp);
  const Config defaults;
  EXPECT_EQ(c.listen, defaults.listen);
  EXPECT_EQ(c.api_keys, defaults.api_keys);
  EXPECT_EQ(c.redis, defaults.redis);
  EXPECT_EQ(c.limits, defaults.limits);
  EXPECT_EQ(c.logging, defaults.logging);
  EXPECT_EQ(c.queue, defaults.queue);
  EXPECT_EQ(c.retries, defaults.retries);
  EXPECT_EQ(c.feedback, defaults.feedback);
  EXPECT_EQ(c.instance_id, defaults.instance_id);
  EXPECT_EQ(c.shutdown_timeout, defaults.shutdown_timeout);
  const AppConfig& demo = c.apps.at("demo");
  EXPECT_FALSE(demo.apns);
  FcmConfig expected_fcm;
  expected_fcm.service_account_file = "/secrets/fcm.json";
  EXPECT_EQ(demo.fcm, expected_fcm);
}

TEST_F(ConfigTest, EmptyOrPartialSectionsKeepTheOtherDefaults) {
  const Config c = parse_ok("redis:\nlimits:\n  max_connections: 7\nlogging: {}\n" + kApp);
  EXPECT_EQ(c.redis, RedisConfig{});
  LimitsConfig expected;
  expected.max_connections = 7;
  EXPECT_EQ(c.limits, expected);
  EXPECT_EQ(c.logging, LogConfig{});
}

TEST_F(ConfigTest, SyntaxErrorIsOneErrorWithTheLine) {
  const auto result = parse("listen: :8088\napi_keys: [a, b\n" + kApp);
  EXPECT_FALSE(result.config);
  EXPECT_THAT(result.errors, ElementsAre(IsError("", 3, "YAML syntax error")));
}

TEST_F(ConfigTest, BadIndentationIsASyntaxError) {
  const auto result = parse("redis:\n  url: redis://h\n    prefix: x\n" + kApp);
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_EQ(result.errors[0].path, "");
  EXPECT_EQ(result.errors[0].line, 3);
}

TEST_F(ConfigTest, UnknownKeySuggestsTheClosestKnownKey) {
  const auto result = parse(kApp + "    apns:\n      conections: 4\n      auth: {type: certificate, cert_file: /c.pem}\n");
  EXPECT_THAT(result.errors,
              ElementsAre(IsError("apps.demo.apns.conections", 6,
                                  "unknown key \"conections\"; did you mean \"connections\"?")));
}

TEST_F(ConfigTest, UnknownKeyFarFromAnyKnownKeyListsTheKnownKeys) {
  const auto result = parse("frobnicate: 1\n" + kApp);
  ASSERT_THAT(result.errors, ElementsAre(IsError("frobnicate", 1, "unknown key \"frobnicate\"")));
  EXPECT_THAT(result.errors[0].message, HasSubstr("expected one of: listen, api_keys, redis"));
  EXPECT_THAT(result.errors[0].message, Not(HasSubstr("did you mean")));
}

TEST_F(ConfigTest, DuplicateKeyIsAnError) {
  const auto result = parse("listen: :1\nlisten: :2\n" + kApp);
  EXPECT_THAT(result.errors,
              ElementsAre(IsError("listen", 2, "duplicate key \"listen\" (first on line 1)")));
}

TEST_F(ConfigTest, WrongTypesNameWhatWasExpected) {
  const auto result = parse(
      "redis: [a, b]\n"                                   // 1
      "limits:\n"                                         // 2
      "  max_connections: {a: 1}\n"                       // 3
      "api_keys: just-one-key\n"                          // 4
      "logging:\n"                                        // 5
      "  level: [info]\n"                                 // 6
      + kApp);
  EXPECT_THAT(result.errors,
              ElementsAre(IsError("redis", 1, "must be a mapping (indented \"key: value\" lines), got a list"),
                          IsError("limits.max_connections", 3, "must be a positive integer, got a mapping"),
                          IsError("api_keys", 4, "must be a list of keys"),
                          IsError("logging.level", 6, "must be one of trace|debug|info|warn|error|critical|off, got a list")));
}

TEST_F(ConfigTest, KeyWithoutValueIsAnErrorForScalars) {
  const auto result = parse("shutdown_timeout:\n" + kApp);
  EXPECT_THAT(result.errors,
              ElementsAre(IsError("shutdown_timeout", 1, "has no value; expected a duration")));
}

TEST_F(ConfigTest, BadDurations) {
  const auto result = parse(
      "limits:\n"
      "  read_timeout: 10\n"        // 2: no unit
      "  idle_timeout: 10sec\n"     // 3: unknown unit
      "  header_timeout: 0s\n"      // 4: zero where positive is required
      "redis:\n"
      "  connect_timeout: -1s\n"    // 6: negative
      "  command_timeout: 0s\n"     // 7: zero where positive is required
      + kApp);
  EXPECT_THAT(result.errors,
              ElementsAre(IsError("limits.read_timeout", 2, "needs a unit: write \"10s\""),
                          IsError("limits.idle_timeout", 3, "unknown unit \"sec\""),
                          IsError("limits.header_timeout", 4, "must be greater than 0"),
                          IsError("redis.connect_timeout", 6, "must not be negative"),
                          IsError("redis.command_timeout", 7, "must be greater than 0")));
}

TEST_F(ConfigTest, WebSectionWithItsDefaultsAndThreads) {
  const std::string secret = "0123456789abcdef0123456789abcdef";
  const Config defaults = parse_ok("web:\n  enabled: true\n  secret: " + secret + "\n" + kApp);
  EXPECT_TRUE(defaults.web.enabled);
  EXPECT_EQ(defaults.web.threads, 2u);
  EXPECT_EQ(defaults.web.max_connections, 100000u);
  EXPECT_EQ(defaults.web.send_buffer, 64u * 1024);
  const Config c = parse_ok("web:\n  enabled: true\n  secret: " + secret +
                            "\n  threads: 8\n  send_buffer: 16KiB\n  max_connections: 5000\n" + kApp);
  EXPECT_EQ(c.web.threads, 8u);
  EXPECT_EQ(c.web.send_buffer, 16u * 1024);
  EXPECT_EQ(c.web.max_connections, 5000u);
  EXPECT_EQ(parse_ok("web:\n  threads: 0\n" + kApp).web.threads, 0u) << "0: on the main thread";
  EXPECT_THAT(parse("web:\n  threads: 65\n" + kApp).errors,
              ElementsAre(IsError("web.threads", 2, "must be at most 64, got 65")));
  EXPECT_THAT(parse("web:\n  enabled: true\n  secret: short\n" + kApp).errors,
              ElementsAre(IsError("web.secret", 3, "must be at least 32 bytes: it is the HS256 key client tokens are "
                                                   "signed with, and a short one can be guessed")));
}

TEST_F(ConfigTest, FeedbackWebhookAndTtl) {
  const Config c = parse_ok(
      "feedback:\n"
      "  inactive_ttl: 30d\n"
      "  webhook:\n"
      "    url: https://backend.example/hooks/pushgw?team=1\n"
      "    secret: s\n"
      "    batch: 50\n"
      "    interval: 2s\n"
      + kApp);
  EXPECT_EQ(c.feedback.inactive_ttl, std::chrono::hours(24 * 30));
  EXPECT_EQ(c.feedback.webhook.url, "https://backend.example/hooks/pushgw?team=1");
  EXPECT_EQ(c.feedback.webhook.batch, 50u);
  EXPECT_EQ(c.feedback.webhook.interval, std::chrono::seconds(2));
  EXPECT_EQ(c.feedback.webhook.timeout, std::chrono::seconds(5));  // the default
  EXPECT_EQ(parse_ok(kApp).feedback.webhook.url, "") << "off by default";

  LoadResult result = parse(
      "feedback:\n"
      "  webhook:\n"
      "    url: ftp://backend.example/hook\n"  // 3
      "    secret: s\n"
      "    batch: 0\n"                         // 5
      + kApp);
  EXPECT_THAT(result.errors,
              ElementsAre(IsError("feedback.webhook.url", 3, "scheme must be http or https"),
                          IsError("feedback.webhook.batch", 5, "must be a positive integer")));
  result = parse("feedback:\n  webhook:\n    url: http://user:pw@backend/hook\n" + kApp);
  EXPECT_THAT(result.errors, ElementsAre(IsError("feedback.webhook.secret", 2, "is required with feedback.webhook.url"),
                                         IsError("feedback.webhook.url", 3, "no user info")));
  EXPECT_EQ(result.errors[1].message.find("pw"), std::string::npos) << "the password is not echoed";
}

TEST_F(ConfigTest, PingIntervalMayBeZero) {
  const Config c = parse_ok(kApp + "      ping_interval: 0s\n");
  EXPECT_EQ(c.apps.at("demo").fcm->ping_interval, 0ms);
}

TEST_F(ConfigTest, BadSizesAndCounts) {
  const auto result = parse(
      "limits:\n"
      "  max_body_bytes: 64XB\n"                 // 2
      "  max_header_bytes: 0\n"                  // 3
      "  max_notifications_per_request: -5\n"    // 4
      "  max_connections: 0\n"                   // 5
      "  max_tokens_per_notification: 1.5\n"     // 6
      "  probe_connections: -1\n"                // 7: 0 is allowed, not negative
      "  min_receive_rate: 0\n"                  // 8
      "  max_pending_body_bytes: lots\n"         // 9
      + kApp);
  EXPECT_THAT(result.errors,
              ElementsAre(IsError("limits.max_body_bytes", 2, "unknown unit \"XB\""),
                          IsError("limits.max_header_bytes", 3, "must be greater than 0"),
                          IsError("limits.max_notifications_per_request", 4,
                                  "must be a positive integer, got \"-5\""),
                          IsError("limits.max_connections", 5, "must be a positive integer, got \"0\""),
                          IsError("limits.max_tokens_per_notification", 6,
                                  "must be a positive integer, got \"1.5\""),
                          IsError("limits.probe_connections", 7, "must be a whole number, got \"-1\""),
                          IsError("limits.min_receive_rate", 8, "must be greater than 0"),
                          IsError("limits.max_pending_body_bytes", 9, "expected a size like")));
}

TEST_F(ConfigTest, BadEnumsAndBooleans) {
  const auto result = parse(
      "logging:\n"
      "  level: Info\n"             // 2
      "  format: xml\n"             // 3
      "  redact_tokens: yes\n"      // 4
      "apps:\n"
      "  demo:\n"
      "    apns:\n"
      "      auth:\n"
      "        type: jwt\n"         // 9
      "        key_file: /k.p8\n");
  EXPECT_THAT(result.errors,
              ElementsAre(IsError("logging.level", 2, "got \"Info\"; did you mean \"info\"?"),
                          IsError("logging.format", 3, "must be one of text|json, got \"xml\""),
                          IsError("logging.redact_tokens", 4, "must be true or false, got \"yes\""),
                          IsError("apps.demo.apns.auth.type", 9,
                                  "must be one of token|certificate, got \"jwt\"")));
}

TEST_F(ConfigTest, BadListenAddresses) {
  EXPECT_THAT(parse("listen: 8088\n" + kApp).errors,
              ElementsAre(IsError("listen", 1, "expected host:port")));
  EXPECT_THAT(parse("listen: ::1:8088\n" + kApp).errors,
              ElementsAre(IsError("listen", 1, "IPv6 address needs brackets")));
  EXPECT_THAT(parse("listen: 0.0.0.0:70000\n" + kApp).errors,
              ElementsAre(IsError("listen", 1, "port must be 1-65535, got \"70000\"")));
  EXPECT_THAT(parse("listen: \"localhost:0\"\n" + kApp).errors,
              ElementsAre(IsError("listen", 1, "port must be 1-65535, got \"0\"")));
}

TEST_F(ConfigTest, ListenForms) {
  EXPECT_EQ(parse_ok("listen: \":8088\"\n" + kApp).listen, (ListenAddress{"0.0.0.0", 8088}));
  EXPECT_EQ(parse_ok("listen: \"[::]:80\"\n" + kApp).listen, (ListenAddress{"::", 80}));
  EXPECT_EQ(parse_ok("listen: localhost:8080\n" + kApp).listen, (ListenAddress{"localhost", 8080}));
}

TEST_F(ConfigTest, BadRedisUrlUsesTheUrlParserMessageWithoutEchoingIt) {
  auto result = parse("redis:\n  url: redis://:s3cret@host:99999\n" + kApp);
  ASSERT_THAT(result.errors,
              ElementsAre(IsError("redis.url", 2, "port must be 1-65535, got \"99999\"")));
  EXPECT_THAT(result.errors[0].message, Not(HasSubstr("s3cret")));
}

TEST_F(ConfigTest, RedisTlsIsReadForARedissUrl) {
  const Config config = parse_ok(
      "redis:\n  url: rediss://pushgw:pw@redis.internal:6380/0\n  tls:\n    ca_file: /etc/ca.pem\n"
      "    cert_file: /etc/client.pem\n    key_file: /etc/client.key\n    server_name: redis.example.com\n" + kApp);
  EXPECT_EQ(config.redis.tls, (RedisTlsConfig{"/etc/ca.pem", "/etc/client.pem", "/etc/client.key", "redis.example.com"}));
  // rediss:// alone: the system store, the URL's host.
  EXPECT_EQ(parse_ok("redis:\n  url: rediss://redis.internal\n" + kApp).redis.tls, RedisTlsConfig{});
}

TEST_F(ConfigTest, RedisTlsMistakesAreNamed) {
  auto result = parse("redis:\n  url: redis://redis.internal\n  tls:\n    ca_file: /etc/ca.pem\n" + kApp);
  EXPECT_THAT(result.errors, ElementsAre(IsError("redis.tls", 3, "is set but redis.url is redis:// (plain TCP)")));

  result = parse("redis:\n  url: rediss://redis.internal\n  tls:\n    cert_file: /etc/client.pem\n" + kApp);
  EXPECT_THAT(result.errors, ElementsAre(IsError("redis.tls.key_file", 4, "is needed with redis.tls.cert_file")));

  result = parse("redis:\n  url: rediss://redis.internal\n  tls:\n    server_name: \"not a host\"\n    cafile: x\n" + kApp);
  EXPECT_THAT(result.errors, UnorderedElementsAre(IsError("redis.tls.server_name", 4, "must be a host name"),
                                                  IsError("redis.tls.cafile", 5, "did you mean \"ca_file\"?")));
}

TEST_F(ConfigTest, RedisSentinelNamesTheServerAndTheUrlItsCredentials) {
  const Config config = parse_ok(
      "redis:\n  url: rediss://pushgw:pw@/2\n  sentinel:\n    master: mymaster\n"
      "    nodes: [\"10.0.0.7:26379\", \"sentinel-1.redis\", \"[::1]:26380\"]\n" + kApp);
  EXPECT_EQ(config.redis.sentinel.master, "mymaster");
  EXPECT_EQ(config.redis.sentinel.nodes, (std::vector<HostPort>{{"10.0.0.7", 26379}, {"sentinel-1.redis", 26379}, {"::1", 26380}}));
  // The URL may be left at its default: its host is not used.
  EXPECT_EQ(parse_ok("redis:\n  sentinel: {master: m, nodes: [\"s:26379\"]}\n" + kApp).redis.sentinel.master, "m");
}

TEST_F(ConfigTest, RedisSentinelMistakesAreNamed) {
  auto result = parse("redis:\n  url: redis://redis.internal\n  sentinel: {master: m, nodes: [\"s:26379\"]}\n" + kApp);
  EXPECT_THAT(result.errors, ElementsAre(IsError("redis.url", 2, "names a host, and so do redis.sentinel.nodes")));

  result = parse("redis:\n  url: redis://:pw@/0\n" + kApp);
  EXPECT_THAT(result.errors, ElementsAre(IsError("redis.url", 2, "has no host (only Sentinel mode")));

  result = parse("redis:\n  sentinel:\n    nodes: [\"s:26379\"]\n" + kApp);
  EXPECT_THAT(result.errors, ElementsAre(IsError("redis.sentinel.master", 3, "is needed with redis.sentinel.nodes")));

  result = parse("redis:\n  sentinel:\n    master: m\n" + kApp);
  EXPECT_THAT(result.errors, ElementsAre(IsError("redis.sentinel.nodes", 3, "is needed with redis.sentinel.master")));

  result = parse("redis:\n  sentinel:\n    master: m\n    nodes: [\"s:99999\", \":26379\"]\n" + kApp);
  EXPECT_THAT(result.errors, UnorderedElementsAre(IsError("redis.sentinel.nodes[0]", 4, "port must be 1-65535"),
                                                  IsError("redis.sentinel.nodes[1]", 4, "has no host")));

  result = parse("redis:\n  sentinel:\n    master: m\n    nodes: s:26379\n" + kApp);
  EXPECT_THAT(result.errors, ElementsAre(IsError("redis.sentinel.nodes", 4, "must be a list of sentinels")));
}

TEST_F(ConfigTest, RedisClusterNamesTheSeedsAndTheUrlItsCredentials) {
  const Config config = parse_ok(
      "redis:\n  url: rediss://pushgw:pw@/0\n  cluster:\n    nodes: [\"10.0.0.7:7000\", \"redis-1.redis\"]\n" + kApp);
  EXPECT_EQ(config.redis.cluster.nodes, (std::vector<HostPort>{{"10.0.0.7", 7000}, {"redis-1.redis", 6379}}));
  EXPECT_EQ(parse_ok("redis:\n  cluster: {nodes: [\"r:7000\"]}\n" + kApp).redis.cluster.nodes.size(), 1u);
}

TEST_F(ConfigTest, RedisClusterMistakesAreNamed) {
  auto result = parse("redis:\n  url: redis://redis.internal\n  cluster: {nodes: [\"r:7000\"]}\n" + kApp);
  EXPECT_THAT(result.errors, ElementsAre(IsError("redis.url", 2, "names a host, and so do redis.cluster.nodes")));

  result = parse("redis:\n  url: redis://:pw@/3\n  cluster: {nodes: [\"r:7000\"]}\n" + kApp);
  EXPECT_THAT(result.errors, ElementsAre(IsError("redis.url", 2, "Redis Cluster has only database 0")));

  result = parse("redis:\n  url: redis:///0\n  sentinel: {master: m, nodes: [\"s:26379\"]}\n  cluster:\n    nodes: [\"r:7000\"]\n" + kApp);
  EXPECT_THAT(result.errors, ElementsAre(IsError("redis.cluster.nodes", 5, "and redis.sentinel are both set")));

  result = parse("redis:\n  cluster:\n    nodes: [\"r:0\"]\n" + kApp);
  EXPECT_THAT(result.errors, ElementsAre(IsError("redis.cluster.nodes[0]", 3, "port must be 1-65535")));

  result = parse("redis:\n  cluster:\n    seeds: [\"r:7000\"]\n" + kApp);
  EXPECT_THAT(result.errors, ElementsAre(IsError("redis.cluster.seeds", 3, "")));
}

TEST_F(ConfigTest, BadRedisPrefixAndReconnectOrder) {
  const auto result = parse(
      "redis:\n"
      "  prefix: \"{pushgw}\"\n"     // 2
      "  reconnect_min: 2s\n"        // 3
      "  reconnect_max: 1s\n"        // 4
      + kApp);
  EXPECT_THAT(result.errors,
              ElementsAre(IsError("redis.prefix", 2, "no braces"),
                          IsError("redis.reconnect_max", 4,
                                  "must not be less than redis.reconnect_min (2000ms)")));
}

TEST_F(ConfigTest, QueueRetriesAndFeedbackSections) {
  const Config c = parse_ok(
      "queue:\n"
      "  consume: false\n"
      "  workers: 32\n"
      "  in_progress_bytes: 2MiB\n"
      "  send_threads: 0\n"
      "  batch: 8\n"
      "  lanes: {high: 10, default: 3, bulk: 2}\n"
      "  block_timeout: 500ms\n"
      "  poll_interval: 100ms\n"
      "  heartbeat_interval: 1s\n"
      "  heartbeat_ttl: 3s\n"
      "  reaper_interval: 2s\n"
      "  max_redeliveries: 2\n"
      "  idempotency_ttl: 1h\n"
      "retries: {max_attempts: 3, backoff_min: 200ms, backoff_max: 2s}\n"
      "feedback: {max_events: 50}\n" + kApp);
  EXPECT_FALSE(c.queue.consume);
  EXPECT_EQ(c.queue.workers, 32u);
  EXPECT_EQ(c.queue.in_progress_bytes, 2u * 1024 * 1024);
  EXPECT_EQ(c.queue.send_threads, 0u);  // 0 is allowed: sends on the main thread
  EXPECT_EQ(c.queue.batch, 8u);
  EXPECT_EQ(c.queue.weight_high, 10u);
  EXPECT_EQ(c.queue.weight_default, 3u);
  EXPECT_EQ(c.queue.weight_bulk, 2u);
  EXPECT_EQ(c.queue.block_timeout, 500ms);
  EXPECT_EQ(c.queue.poll_interval, 100ms);
  EXPECT_EQ(c.queue.heartbeat_interval, 1s);
  EXPECT_EQ(c.queue.heartbeat_ttl, 3s);
  EXPECT_EQ(c.queue.reaper_interval, 2s);
  EXPECT_EQ(c.queue.max_redeliveries, 2u);
  EXPECT_EQ(c.queue.idempotency_ttl, 1h);
  EXPECT_EQ(c.retries.max_attempts, 3u);
  EXPECT_EQ(c.retries.backoff_min, 200ms);
  EXPECT_EQ(c.retries.backoff_max, 2s);
  EXPECT_EQ(c.feedback.max_events, 50u);
}

TEST_F(ConfigTest, QueueAndRetriesOrderingAndValues) {
  const auto result = parse(
      "queue:\n"
      "  lanes: {high: 0, urgent: 3}\n"  // 2
      "  heartbeat_interval: 5s\n"       // 3
      "  heartbeat_ttl: 5s\n"            // 4
      "  send_threads: 65\n"             // 5
      "retries:\n"
      "  backoff_min: 10s\n"             // 7
      "  backoff_max: 1s\n"              // 8
      + kApp);
  EXPECT_THAT(result.errors,
              ElementsAre(IsError("queue.lanes.high", 2, "positive integer"),
                          IsError("queue.lanes.urgent", 2, "unknown"),
                          IsError("queue.heartbeat_ttl", 4, "must be greater than queue.heartbeat_interval (5000ms)"),
                          IsError("queue.send_threads", 5, "must be at most 64, got 65"),
                          IsError("retries.backoff_max", 8, "must not be less than retries.backoff_min (10000ms)")));
  EXPECT_THAT(parse("queue: {send_threads: two}\n" + kApp).errors,
              ElementsAre(IsError("queue.send_threads", 1, "must be a whole number, got \"two\"")));
  EXPECT_THAT(parse("queue: {in_progress_bytes: 4XB}\n" + kApp).errors,
              ElementsAre(IsError("queue.in_progress_bytes", 1, "unknown unit \"XB\"")));
}

TEST_F(ConfigTest, TokenAuthNeedsKeyFileKeyIdAndTeamId) {
  const auto result = parse(
      "apps:\n"
      "  demo:\n"
      "    apns:\n"
      "      auth:\n"                 // 4
      "        type: token\n"
      "        team_id: DEF123GHIJ\n");
  EXPECT_THAT(result.errors,
              ElementsAre(IsError("apps.demo.apns.auth.key_file", 4, "is required for token auth"),
                          IsError("apps.demo.apns.auth.key_id", 4, "is required for token auth")));
}

TEST_F(ConfigTest, AppleIdsMustBeTenUppercaseAlphanumerics) {
  const auto result = parse(
      "apps:\n"
      "  demo:\n"
      "    apns:\n"
      "      auth:\n"
      "        key_file: /k.p8\n"
      "        key_id: abc123defg\n"     // 6
      "        team_id: DEF123GHI\n");   // 7
  EXPECT_THAT(result.errors,
              ElementsAre(IsError("apps.demo.apns.auth.key_id", 6,
                                  "must be 10 characters of A-Z and 0-9 (as shown in the Apple "
                                  "developer account), got \"abc123defg\""),
                          IsError("apps.demo.apns.auth.team_id", 7, "got \"DEF123GHI\"")));
}

TEST_F(ConfigTest, CertificateAuthNeedsCertFileAndRejectsTokenFields) {
  const auto result = parse(
      "apps:\n"
      "  demo:\n"
      "    apns:\n"
      "      auth:\n"                        // 4
      "        type: certificate\n"
      "        key_id: ABC123DEFG\n");       // 6
  EXPECT_THAT(result.errors,
              ElementsAre(IsError("apps.demo.apns.auth.cert_file", 4,
                                  "is required for certificate auth"),
                          IsError("apps.demo.apns.auth.key_id", 6,
                                  "is only used with auth type token")));
}

TEST_F(ConfigTest, ApnsWithoutAuthAndFcmWithoutServiceAccount) {
  const auto result = parse(
      "apps:\n"
      "  demo:\n"
      "    apns:\n"                 // 3
      "      topic: com.x\n"
      "    fcm:\n");                // 5
  EXPECT_THAT(result.errors,
              ElementsAre(IsError("apps.demo.apns.auth", 3, "is required"),
                          IsError("apps.demo.fcm.service_account_file", 5, "is required")));
}

TEST_F(ConfigTest, AtLeastOneAppIsRequired) {
  EXPECT_THAT(parse("listen: :8088\n").errors,
              ElementsAre(IsError("apps", 0, "at least one app is required")));
  EXPECT_THAT(parse("listen: :8088\napps: {}\n").errors,
              ElementsAre(IsError("apps", 2, "at least one app is required")));
  EXPECT_THAT(parse("").errors, ElementsAre(IsError("apps", 0, "at least one app is required")));
}

TEST_F(ConfigTest, AppNeedsAProviderAndASimpleName) {
  EXPECT_THAT(parse("apps:\n  demo: {}\n").errors,
              ElementsAre(IsError("apps.demo", 2, "has neither apns nor fcm")));
  EXPECT_THAT(parse("apps:\n  \"my app\":\n    fcm: {service_account_file: /f.json}\n").errors,
              ElementsAre(IsError("apps.my app", 2, "app name \"my app\" must be")));
}

TEST_F(ConfigTest, EndpointsMustBeHttpsWithoutPath) {
  const auto result = parse(
      "apps:\n"
      "  demo:\n"
      "    fcm:\n"
      "      endpoint: http://127.0.0.1:8443\n"      // 4
      "      service_account_file: /f.json\n"
      "    apns:\n"
      "      endpoint: https://api.push.apple.com/3/device\n"   // 7
      "      auth: {type: certificate, cert_file: /c.pem}\n");
  EXPECT_THAT(result.errors,
              ElementsAre(IsError("apps.demo.fcm.endpoint", 4, "must use https://"),
                          IsError("apps.demo.apns.endpoint", 7,
                                  "must not have a path, query or fragment")));
}

TEST_F(ConfigTest, UnsetEnvironmentVariableNamesVariablePathAndLine) {
  const auto result = parse("listen: :8088\napi_keys: [\"${PUSHGW_API_KEY}\"]\n" + kApp);
  EXPECT_FALSE(result.config);
  EXPECT_THAT(result.errors,
              ElementsAre(IsError("api_keys[0]", 2,
                                  "uses environment variable PUSHGW_API_KEY, which is not set")));
}

TEST_F(ConfigTest, EnvironmentDefaultIsUsedWhenUnsetOrEmpty) {
  const std::string yaml = "redis:\n  url: ${PUSHGW_REDIS_URL:-redis://10.1.1.1:6380/2}\n" + kApp;
  EXPECT_EQ(parse_ok(yaml).redis.url, "redis://10.1.1.1:6380/2");
  fake_env()["PUSHGW_REDIS_URL"] = "";
  EXPECT_EQ(parse_ok(yaml).redis.url, "redis://10.1.1.1:6380/2");
  fake_env()["PUSHGW_REDIS_URL"] = "redis://cache:7000/1";
  EXPECT_EQ(parse_ok(yaml).redis.url, "redis://cache:7000/1");
}

TEST_F(ConfigTest, SubstitutionFeedsTypedValues) {
  fake_env()["FCM_CONNECTIONS"] = "16";
  const Config c = parse_ok(kApp + "      connections: ${FCM_CONNECTIONS}\n"
                                   "      request_timeout: ${FCM_TIMEOUT:-3s}\n");
  EXPECT_EQ(c.apps.at("demo").fcm->connections, 16u);
  EXPECT_EQ(c.apps.at("demo").fcm->request_timeout, 3s);

  fake_env()["FCM_CONNECTIONS"] = "sixteen";
  EXPECT_THAT(parse(kApp + "      connections: ${FCM_CONNECTIONS}\n").errors,
              ElementsAre(IsError("apps.demo.fcm.connections", 5,
                                  "must be a positive integer, got \"sixteen\"")));
}

TEST_F(ConfigTest, SubstitutedTextCannotChangeTheStructure) {
  fake_env()["TOPIC"] = "a: \"b\"\n- c: {d}";
  const Config c = parse_ok(kApp + "    apns:\n      topic: ${TOPIC}\n"
                                   "      auth: {type: certificate, cert_file: /c.pem}\n");
  EXPECT_EQ(c.apps.at("demo").apns->topic, "a: \"b\"\n- c: {d}");
}

TEST_F(ConfigTest, DoubleDollarEscapesALiteralPlaceholder) {
  const Config c = parse_ok(kApp + "    apns:\n      topic: \"$${NOT_A_VAR}\"\n"
                                   "      auth: {type: certificate, cert_file: /c.pem}\n");
  EXPECT_EQ(c.apps.at("demo").apns->topic, "${NOT_A_VAR}");
}

TEST_F(ConfigTest, ApiKeys) {
  EXPECT_TRUE(parse_ok("api_keys: []\n" + kApp).api_keys.empty());

  fake_env()["PUSHGW_API_KEY"] = "";
  EXPECT_THAT(parse("api_keys:\n  - good\n  - ${PUSHGW_API_KEY}\n" + kApp).errors,
              ElementsAre(IsError("api_keys[1]", 3, "is empty")));

  EXPECT_THAT(parse("api_keys:\n" + kApp).errors,
              ElementsAre(IsError("api_keys", 1, "write \"api_keys: []\"")));

  fake_env()["PUSHGW_API_KEY"] = "Xk92pQ\n";
  const auto result = parse("api_keys: [\"${PUSHGW_API_KEY}\"]\n" + kApp);
  ASSERT_THAT(result.errors, ElementsAre(IsError("api_keys[0]", 1, "whitespace or control")));
  EXPECT_THAT(result.errors[0].message, Not(HasSubstr("Xk92pQ")));
}

TEST_F(ConfigTest, LimitsThatBoundEachOtherAreCheckedTogether) {
  const struct {
    std::string yaml;
    const char* path;
    int line;
    const char* message;
  } cases[] = {
      {"  max_tokens_per_notification: 100\n  job_split_size: 200\n", "limits.job_split_size", 3,
       "limits.job_split_size (200) must not exceed limits.max_tokens_per_notification (100)"},
      // Only the other one is set: the error points at it.
      {"  max_tokens_per_notification: 10\n", "limits.max_tokens_per_notification", 2, "(500) must not exceed"},
      // A pending-body budget below one largest body would refuse every such request.
      {"  max_body_bytes: 2MiB\n  max_pending_body_bytes: 1MiB\n", "limits.max_pending_body_bytes", 3,
       "limits.max_pending_body_bytes (1048576) must not be less than limits.max_body_bytes (2097152)"},
      {"  max_body_bytes: 100MiB\n", "limits.max_body_bytes", 2, "(67108864) must not be less than"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.yaml);
    EXPECT_THAT(parse("limits:\n" + c.yaml + kApp).errors, ElementsAre(IsError(c.path, c.line, c.message)));
  }
}

TEST_F(ConfigTest, ReportsEveryErrorInFileOrder) {
  const auto result = parse(
      "listen: nowhere\n"                    // 1
      "redis:\n"
      "  url: http://x\n"                    // 3
      "  timeout: 5s\n"                      // 4
      "apps:\n"
      "  demo:\n"
      "    apns:\n"
      "      connections: 0\n"               // 8
      "      auth:\n"                        // 9
      "        key_file: /k.p8\n"
      "        key_id: ABC123DEFG\n"
      "    fcm:\n"
      "      service_account_file: ${SA}\n"  // 13
      "shutdown_timeout: 5\n");              // 14
  EXPECT_FALSE(result.config);
  EXPECT_THAT(result.errors,
              ElementsAre(IsError("listen", 1, "expected host:port"),
                          IsError("redis.url", 3, "unsupported scheme \"http\""),
                          IsError("redis.timeout", 4, "unknown key \"timeout\""),
                          IsError("apps.demo.apns.connections", 8, "must be a positive integer"),
                          IsError("apps.demo.apns.auth.team_id", 9, "is required for token auth"),
                          IsError("apps.demo.fcm.service_account_file", 13,
                                  "environment variable SA, which is not set"),
                          IsError("shutdown_timeout", 14, "needs a unit")));
}

TEST_F(ConfigTest, OneDocumentWithAMappingAtTheTop) {
  EXPECT_THAT(parse(kApp + "---\nlisten: :1\n").errors,
              ElementsAre(IsError("", 5, "2 YAML documents")));
  EXPECT_THAT(parse("- listen\n").errors,
              ElementsAre(IsError("", 1, "the config must be a mapping of keys")));
}

// yaml-cpp 0.7 loops forever in LoadAll (and Load drops the rest of the file) on a "," outside
// a flow collection at document level; it must come out as a syntax error with its line.
TEST_F(ConfigTest, StrayCommaAtDocumentLevelIsASyntaxError) {
  EXPECT_THAT(parse(", 2m\n" + kApp).errors,
              ElementsAre(IsError("", 1, "YAML syntax error: unexpected \",\" here")));
  EXPECT_THAT(parse("- a\n,\n- b\n").errors,
              ElementsAre(IsError("", 2, "YAML syntax error: unexpected \",\" here")));
  EXPECT_THAT(parse(kApp + ",\n").errors, ElementsAre(IsError("", 5, "YAML syntax error")));
}

TEST_F(ConfigTest, BadInstanceId) {
  EXPECT_THAT(parse("instance_id: \"a b\"\n" + kApp).errors,
              ElementsAre(IsError("instance_id", 1, "got \"a b\"")));
}

TEST_F(ConfigTest, BaseDirResolvesRelativePathsOnly) {
  const std::string yaml =
      "apps:\n"
      "  demo:\n"
      "    apns:\n"
      "      ca_file: certs/ca.pem\n"
      "      auth: {type: certificate, cert_file: ../secrets/./cert.pem, key_file: /abs/key.pem}\n"
      "    fcm:\n"
      "      service_account_file: fcm.json\n";
  const Config resolved = parse_ok(yaml, "/etc/pushgw");
  const AppConfig& app = resolved.apps.at("demo");
  EXPECT_EQ(app.apns->ca_file, "/etc/pushgw/certs/ca.pem");
  EXPECT_EQ(app.apns->auth.cert_file, "/etc/secrets/cert.pem");
  EXPECT_EQ(app.apns->auth.key_file, "/abs/key.pem");
  EXPECT_EQ(app.fcm->service_account_file, "/etc/pushgw/fcm.json");

  const Config as_written = parse_ok(yaml);
  EXPECT_EQ(as_written.apps.at("demo").apns->ca_file, "certs/ca.pem");
}

TEST_F(ConfigTest, ExampleFileParsesAndShowsTheDefaults) {
  fake_env()["PUSHGW_API_KEY"] = "example-key";
  const fs::path file = source_dir() / "config" / "pushgw.example.yaml";
  std::ifstream in(file);
  ASSERT_TRUE(in) << "cannot open " << file;
  const std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  const Config c = parse_ok(text);

  const Config defaults;
  EXPECT_EQ(c.listen, defaults.listen);
  EXPECT_EQ(c.api_keys, std::vector<std::string>{"example-key"});
  EXPECT_EQ(c.redis, defaults.redis);
  EXPECT_EQ(c.limits, defaults.limits);
  EXPECT_EQ(c.logging, defaults.logging);
  EXPECT_EQ(c.queue, defaults.queue);
  EXPECT_EQ(c.retries, defaults.retries);
  EXPECT_EQ(c.feedback, defaults.feedback);
  EXPECT_EQ(c.instance_id, defaults.instance_id);
  EXPECT_EQ(c.shutdown_timeout, defaults.shutdown_timeout);

  ASSERT_EQ(c.apps.count("demo"), 1u);
  const AppConfig& demo = c.apps.at("demo");
  ASSERT_TRUE(demo.apns);
  ASSERT_TRUE(demo.fcm);
  ApnsConfig apns_defaults;
  apns_defaults.topic = demo.apns->topic;
  apns_defaults.auth = demo.apns->auth;
  EXPECT_EQ(*demo.apns, apns_defaults);
  EXPECT_EQ(demo.apns->auth.type, ApnsAuthConfig::Type::token);
  FcmConfig fcm_defaults;
  fcm_defaults.service_account_file = demo.fcm->service_account_file;
  EXPECT_EQ(*demo.fcm, fcm_defaults);
}

TEST_F(ConfigTest, DevFileParsesWithPathsIntoRunDev) {
  const fs::path config_dir = source_dir() / "config";
  std::ifstream in(config_dir / "pushgw.dev.yaml");
  ASSERT_TRUE(in);
  const std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  const Config c = parse_ok(text, config_dir.string());
  const fs::path run_dev = (source_dir() / "run" / "dev").lexically_normal();

  EXPECT_EQ(c.listen, (ListenAddress{"127.0.0.1", 8088}));
  EXPECT_TRUE(c.api_keys.empty());
  EXPECT_EQ(c.redis.url, "redis://127.0.0.1:6399/0");
  const AppConfig& demo = c.apps.at("demo");
  EXPECT_EQ(demo.apns->endpoint, "https://127.0.0.1:8443");
  EXPECT_EQ(demo.apns->ca_file, (run_dev / "sim-cert.pem").string());
  EXPECT_EQ(demo.apns->topic, "com.example.demo");
  EXPECT_EQ(demo.apns->auth.key_file, (run_dev / "apns-key.p8").string());
  EXPECT_EQ(demo.apns->auth.key_id, "ABC123DEFG");
  EXPECT_EQ(demo.apns->auth.team_id, "DEF123GHIJ");
  EXPECT_EQ(demo.fcm->endpoint, "https://127.0.0.1:8443");
  EXPECT_EQ(demo.fcm->ca_file, (run_dev / "sim-cert.pem").string());
  EXPECT_EQ(demo.fcm->service_account_file, (run_dev / "fcm-service-account.json").string());

  fake_env()["PUSHGW_SIM_URL"] = "https://[::1]:9443";
  EXPECT_EQ(parse_ok(text, config_dir.string()).apps.at("demo").fcm->endpoint, "https://[::1]:9443");
}

// load_config reads real files, so these tests work in a scratch directory of their own.
class LoadConfigTest : public ConfigTest {
 protected:
  void SetUp() override {
    ConfigTest::SetUp();
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() /
           ("pushgw_config_test_" + std::to_string(::getpid()) + "_" + info->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "conf" / "secrets");
  }
  void TearDown() override { fs::remove_all(dir_); }
  void write(const fs::path& relative, const std::string& content) {
    std::ofstream(dir_ / relative) << content;
  }
  fs::path dir_;
};

TEST_F(LoadConfigTest, ResolvesRelativePathsAgainstTheConfigDirectory) {
  write("conf/secrets/key.p8", "k");
  write("conf/secrets/fcm.json", "{}");
  write("ca.pem", "c");
  write("conf/pushgw.yaml",
        "apps:\n"
        "  demo:\n"
        "    apns:\n"
        "      ca_file: ../ca.pem\n"
        "      auth: {key_file: secrets/key.p8, key_id: ABC123DEFG, team_id: DEF123GHIJ}\n"
        "    fcm:\n"
        "      service_account_file: ./secrets/fcm.json\n");
  const LoadResult result = load_config((dir_ / "conf" / "pushgw.yaml").string(), &fake_lookup);
  for (const auto& e : result.errors) ADD_FAILURE() << format_error("pushgw.yaml", e);
  ASSERT_TRUE(result.config);
  const AppConfig& demo = result.config->apps.at("demo");
  EXPECT_EQ(demo.apns->ca_file, (dir_ / "ca.pem").string());
  EXPECT_EQ(demo.apns->auth.key_file, (dir_ / "conf" / "secrets" / "key.p8").string());
  EXPECT_EQ(demo.fcm->service_account_file, (dir_ / "conf" / "secrets" / "fcm.json").string());
}

TEST_F(LoadConfigTest, ReportsMissingReferencedFilesWithPathAndLine) {
  write("conf/secrets/fcm.json", "{}");
  write("conf/pushgw.yaml",
        "apps:\n"
        "  demo:\n"
        "    apns:\n"
        "      ca_file: secrets\n"                                                       // 4
        "      auth: {key_file: nope.p8, key_id: ABC123DEFG, team_id: DEF123GHIJ}\n"    // 5
        "    fcm:\n"
        "      service_account_file: secrets/fcm.json\n");
  const LoadResult result = load_config((dir_ / "conf" / "pushgw.yaml").string(), &fake_lookup);
  EXPECT_FALSE(result.config);
  const std::string missing = (dir_ / "conf" / "nope.p8").string();
  EXPECT_THAT(result.errors,
              ElementsAre(IsError("apps.demo.apns.ca_file", 4,
                                  (dir_ / "conf" / "secrets").string() + "\" is a directory"),
                          IsError("apps.demo.apns.auth.key_file", 5,
                                  "file \"" + missing + "\" does not exist")));
}

TEST_F(LoadConfigTest, MissingConfigFileIsOneErrorWithoutLine) {
  const LoadResult result = load_config((dir_ / "absent.yaml").string(), &fake_lookup);
  EXPECT_FALSE(result.config);
  EXPECT_THAT(result.errors,
              ElementsAre(AllOf(IsError("", 0, "cannot read the config file"),
                                IsError("", 0, "No such file or directory"))));
}

TEST_F(LoadConfigTest, ParseErrorsComeWithFileChecks) {
  write("conf/pushgw.yaml",
        "listen: nowhere\n"
        "apps:\n"
        "  demo:\n"
        "    fcm: {service_account_file: missing.json}\n");
  const LoadResult result = load_config((dir_ / "conf" / "pushgw.yaml").string(), &fake_lookup);
  EXPECT_THAT(result.errors,
              ElementsAre(IsError("listen", 1, "expected host:port"),
                          IsError("apps.demo.fcm.service_account_file", 4, "does not exist")));
}

TEST(FormatError, FileLinePathMessage) {
  EXPECT_EQ(format_error("pushgw.yaml", {"apps.demo.apns.connections", 12, "must be positive"}),
            "pushgw.yaml:12: apps.demo.apns.connections: must be positive");
  EXPECT_EQ(format_error("pushgw.yaml", {"apps", 0, "at least one app is required"}),
            "pushgw.yaml: apps: at least one app is required");
  EXPECT_EQ(format_error("pushgw.yaml", {"", 3, "YAML syntax error: x"}),
            "pushgw.yaml:3: YAML syntax error: x");
  EXPECT_EQ(format_error("/etc/p.yaml", {"", 0, "cannot read the config file: x"}),
            "/etc/p.yaml: cannot read the config file: x");
}

TEST(ProcessEnv, ReadsTheRealEnvironment) {
  ::setenv("PUSHGW_CONFIG_TEST_VAR", "value", 1);
  EXPECT_EQ(process_env("PUSHGW_CONFIG_TEST_VAR"), "value");
  ::unsetenv("PUSHGW_CONFIG_TEST_VAR");
  EXPECT_EQ(process_env("PUSHGW_CONFIG_TEST_VAR"), std::nullopt);
}

}  // namespace
