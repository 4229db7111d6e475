// The provider against a real pushgw-sim child process on a loopback port: successes and
// every outcome class, provider-token refresh after ExpiredProviderToken, credentials errors
// logged once and reported by health(), and certificate auth.

#include "pushgw/apns/provider.hpp"

#include <algorithm>
#include <filesystem>
#include <future>
#include <sstream>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <spdlog/sinks/ostream_sink.h>

#include "apns/test_keys.hpp"
#include "pushgw/h2/connection.hpp"
#include "pushgw/log/log.hpp"
#include "support/process.hpp"

namespace pushgw::apns {
namespace {

namespace asio = boost::asio;
using job::OutcomeKind;
using ::testing::HasSubstr;
using namespace std::chrono_literals;

constexpr const char* kKeyId = "KEYID12345";
constexpr const char* kTeamId = "TEAMID6789";
constexpr const char* kTopic = "com.example.app";

std::filesystem::path sim_binary() {
  const std::string build_dir = test::env_or("PUSHGW_BUILD_DIR", "");
  if (!build_dir.empty()) return std::filesystem::path(build_dir) / "pushgw-sim";
  // Run by hand: <build>/tests/apns/pushgw_apns_tests → <build>/pushgw-sim
  return std::filesystem::read_symlink("/proc/self/exe").parent_path().parent_path().parent_path() / "pushgw-sim";
}

// Runs a coroutine on `io` to completion. The provider's connections keep `io` busy, so this
// polls the future instead of waiting for run() to return. The deadline only stops a hung
// test; it asserts nothing about speed.
template <typename T>
T run(asio::io_context& io, asio::awaitable<T> work) {
  auto future = asio::co_spawn(io, std::move(work), asio::use_future);
  const auto give_up = std::chrono::steady_clock::now() + 60s;
  while (future.wait_for(0s) != std::future_status::ready) {
    if (std::chrono::steady_clock::now() > give_up) throw std::runtime_error("coroutine did not finish in 60 s");
    io.run_one_for(50ms);
  }
  return future.get();
}

std::string device_token(const std::string& prefix, char fill = 'a') {
  return prefix + std::string(64 - prefix.size(), fill);
}

job::Notification alert(const std::string& text = "hello") {
  job::Notification n;
  n.platform = job::Platform::ios;
  n.title = "Title";
  n.message = text;
  return n;
}

// A pushgw-sim with a generated TLS certificate and .p8 key.
struct Simulator {
  explicit Simulator(const testing::TempDir& dir, std::vector<std::string> extra_flags = {}) {
    const testing::Pkey tls_key = testing::ec_key();
    cert_file = dir.write("sim-cert.pem", testing::certificate_pem(testing::self_signed(tls_key.get(), "localhost").get()));
    const std::string key_file = dir.write("sim-key.pem", testing::private_key_pem(tls_key.get()));
    p8_file = dir.write("AuthKey_sim.p8", testing::private_key_pem(apns_key.get()));
    port = test::free_tcp_port();
    std::vector<std::string> argv = {sim_binary().string(), "--listen", "127.0.0.1:" + std::to_string(port),
                                     "--cert", cert_file, "--key", key_file, "--apns-key", p8_file,
                                     "--apns-key-id", kKeyId, "--apns-team-id", kTeamId};
    argv.insert(argv.end(), extra_flags.begin(), extra_flags.end());
    process.emplace(argv, dir.file("sim.log"));
    if (!test::wait_for_port(port, 20s)) {
      throw std::runtime_error("pushgw-sim did not listen on port " + std::to_string(port) + ":\n" + process->log());
    }
  }

  std::string endpoint() const { return "https://127.0.0.1:" + std::to_string(port); }

  // A control request (/sim/stats, /sim/config) over its own HTTP/2 connection.
  nlohmann::json control(asio::io_context& io, const std::string& method, const std::string& path,
                         const std::string& body = "") {
    h2::ConnectionConfig config;
    config.host = "127.0.0.1";
    config.port = port;
    config.ca_file = cert_file;
    h2::Connection connection(io.get_executor(), config);
    const auto ec = run(io, connection.connect());
    if (ec) throw std::runtime_error("control connection: " + ec.message() + " " + connection.last_error_detail());
    h2::Request request;
    request.method = method;
    request.path = path;
    request.body = body;
    if (!body.empty()) request.headers.push_back({"content-type", "application/json"});
    const auto result = run(io, connection.request(std::move(request)));
    connection.close();
    if (result.ec) throw std::runtime_error("control request: " + result.ec.message());
    return nlohmann::json::parse(result.response.body);
  }

  testing::Pkey apns_key = testing::ec_key();
  std::string cert_file;
  std::string p8_file;
  std::uint16_t port = 0;
  std::optional<test::ChildProcess> process;
};

struct ProviderTest : ::testing::Test {
  testing::TempDir dir;
  asio::io_context io;
  Simulator sim{dir};
  std::int64_t clock_offset_s = 0;  // added to the real clock for provider-token iat

  config::ApnsConfig apns_config() {
    config::ApnsConfig config;
    config.endpoint = sim.endpoint();
    config.ca_file = sim.cert_file;
    config.topic = kTopic;
    config.connections = 2;
    config.request_timeout = 2000ms;
    config.auth.type = config::ApnsAuthConfig::Type::token;
    config.auth.key_file = sim.p8_file;
    config.auth.key_id = kKeyId;
    config.auth.team_id = kTeamId;
    return config;
  }

  std::unique_ptr<Provider> make_provider(const config::ApnsConfig& config) {
    ProviderOptions options;
    options.app = "demo";
    options.clock = [this] { return system_unix_seconds() + clock_offset_s; };
    auto provider = std::make_unique<Provider>(io.get_executor(), config,
                                               load_credentials(config.auth, "apps.demo.apns.auth"), options);
    std::string error;
    EXPECT_TRUE(provider->start(&error)) << error;
    return provider;
  }

  // `n` and `token` outlive the send: run() returns only once it has completed.
  job::SendOutcome send(Provider& provider, const std::string& token, job::Notification n = alert()) {
    n.tokens = {token};
    return run(io, provider.async_send(provider.prepare(n), token, asio::use_awaitable));
  }

  void stop(Provider& provider) { run(io, provider.stop(1000ms)); }
};

TEST_F(ProviderTest, DeliversWithAnApnsIdAndTheSimulatorCountsIt) {
  auto provider = make_provider(apns_config());
  for (int i = 0; i < 5; ++i) {
    const auto outcome = send(*provider, device_token("aa", 'a'), alert("message " + std::to_string(i)));
    EXPECT_EQ(outcome.kind, OutcomeKind::delivered) << outcome.reason;
    EXPECT_EQ(outcome.status, 200);
    EXPECT_EQ(outcome.provider_id.size(), 36u) << outcome.provider_id;  // the apns-id UUID
    EXPECT_EQ(std::count(outcome.provider_id.begin(), outcome.provider_id.end(), '-'), 4) << outcome.provider_id;
  }
  const auto stats = sim.control(io, "GET", "/sim/stats");
  EXPECT_EQ(stats.at("unique"), 5);
  EXPECT_EQ(stats.at("duplicates"), 0);
  EXPECT_TRUE(provider->health().ok);
  EXPECT_EQ(provider->tokens_minted(), 1u);  // one provider token shared by every request
  stop(*provider);
}

TEST_F(ProviderTest, DeadTokensCarryTheirReason) {
  auto provider = make_provider(apns_config());
  auto outcome = send(*provider, device_token("0400"));
  EXPECT_EQ(outcome.kind, OutcomeKind::token_dead);
  EXPECT_EQ(outcome.reason, "BadDeviceToken");

  outcome = send(*provider, device_token("0403"));
  EXPECT_EQ(outcome.kind, OutcomeKind::token_dead);
  EXPECT_EQ(outcome.reason, "DeviceTokenNotForTopic");

  outcome = send(*provider, device_token("0410"));
  EXPECT_EQ(outcome.kind, OutcomeKind::token_dead);
  EXPECT_EQ(outcome.status, 410);
  EXPECT_EQ(outcome.reason, "Unregistered");
  EXPECT_TRUE(outcome.token_invalid_since_ms.has_value());

  outcome = send(*provider, device_token("0411"));
  EXPECT_EQ(outcome.reason, "ExpiredToken");
  EXPECT_EQ(outcome.kind, OutcomeKind::token_dead);
  stop(*provider);
}

TEST_F(ProviderTest, TransientErrorsAreRetriesWithRetryAfterWhenGiven) {
  auto provider = make_provider(apns_config());
  auto outcome = send(*provider, device_token("0429"));
  EXPECT_EQ(outcome.kind, OutcomeKind::retry);
  EXPECT_EQ(outcome.reason, "TooManyRequests");
  EXPECT_TRUE(outcome.retry_after.has_value());

  outcome = send(*provider, device_token("0500"));
  EXPECT_EQ(outcome.kind, OutcomeKind::retry);
  EXPECT_EQ(outcome.status, 500);

  outcome = send(*provider, device_token("0503"));
  EXPECT_EQ(outcome.kind, OutcomeKind::retry);
  EXPECT_EQ(outcome.reason, "ServiceUnavailable");
  EXPECT_TRUE(provider->health().ok);  // the server's trouble says nothing about our credentials
  stop(*provider);
}

TEST_F(ProviderTest, NoAnswerIsARetryAfterTheRequestTimeout) {
  auto config = apns_config();
  config.request_timeout = 500ms;
  auto provider = make_provider(config);
  const auto outcome = send(*provider, device_token("0408"));
  EXPECT_EQ(outcome.kind, OutcomeKind::retry);
  EXPECT_EQ(outcome.status, 0);
  EXPECT_THAT(outcome.reason, HasSubstr("transport error"));
  stop(*provider);
}

TEST_F(ProviderTest, BadNotificationHeadersAreRejected) {
  auto provider = make_provider(apns_config());
  auto n = alert();
  n.apns = nlohmann::json{{"headers", {{"apns-priority", "7"}}}};
  auto outcome = send(*provider, device_token("bb"), n);
  EXPECT_EQ(outcome.kind, OutcomeKind::rejected);
  EXPECT_EQ(outcome.status, 400);
  EXPECT_EQ(outcome.reason, "BadPriority");

  n = alert();
  n.push_type = "not-a-push-type";
  outcome = send(*provider, device_token("bb"), n);
  EXPECT_EQ(outcome.kind, OutcomeKind::rejected);
  EXPECT_EQ(outcome.status, 400);
  EXPECT_TRUE(provider->health().ok);  // rejected notifications are not a credentials problem
  stop(*provider);
}

TEST_F(ProviderTest, PayloadTooLargeIsRefusedWithoutSending) {
  auto provider = make_provider(apns_config());
  const auto outcome = send(*provider, device_token("cc"), alert(std::string(5000, 'x')));
  EXPECT_EQ(outcome.kind, OutcomeKind::rejected);
  EXPECT_EQ(outcome.reason, "PayloadTooLarge");
  EXPECT_EQ(sim.control(io, "GET", "/sim/stats").at("received"), 0);
  stop(*provider);
}

TEST_F(ProviderTest, ServerErrorsForcedBySimulatorConfigAreClassified) {
  auto provider = make_provider(apns_config());
  sim.control(io, "POST", "/sim/config", R"({"force_status": 413, "force_reason": "PayloadTooLarge"})");
  EXPECT_EQ(send(*provider, device_token("dd")).kind, OutcomeKind::rejected);
  sim.control(io, "POST", "/sim/config", R"({"force_status": 503, "force_reason": "Shutdown"})");
  EXPECT_EQ(send(*provider, device_token("dd")).kind, OutcomeKind::retry);
  sim.control(io, "POST", "/sim/config", R"({"force_status": 403, "force_reason": "BadCertificateEnvironment"})");
  EXPECT_EQ(send(*provider, device_token("dd")).kind, OutcomeKind::credentials_error);
  EXPECT_FALSE(provider->health().ok);
  sim.control(io, "POST", "/sim/config", R"({"force_status": null, "force_reason": null})");
  EXPECT_EQ(send(*provider, device_token("dd")).kind, OutcomeKind::delivered);
  EXPECT_TRUE(provider->health().ok);  // APNs accepted us again
  stop(*provider);
}

TEST_F(ProviderTest, WrongKeyIsACredentialsErrorLoggedOnceAndReportedByHealth) {
  std::ostringstream log_lines;
  log::setup_logging(config::LogConfig{}, std::make_shared<spdlog::sinks::ostream_sink_mt>(log_lines));

  auto config = apns_config();
  const testing::Pkey other_key = testing::ec_key();
  config.auth.key_file = dir.write("AuthKey_other.p8", testing::private_key_pem(other_key.get()));
  auto provider = make_provider(config);
  for (int i = 0; i < 3; ++i) {
    const auto outcome = send(*provider, device_token("ee"));
    EXPECT_EQ(outcome.kind, OutcomeKind::credentials_error);
    EXPECT_EQ(outcome.status, 403);
    EXPECT_EQ(outcome.reason, "InvalidProviderToken");
  }
  const auto health = provider->health();
  EXPECT_FALSE(health.ok);
  EXPECT_THAT(health.error, HasSubstr("403 InvalidProviderToken"));
  EXPECT_THAT(health.credentials, HasSubstr(kKeyId));
  stop(*provider);
  log::setup_logging(config::LogConfig{});

  const std::string text = log_lines.str();
  std::size_t loud_lines = 0;
  for (std::size_t at = text.find("InvalidProviderToken"); at != std::string::npos;
       at = text.find("InvalidProviderToken", at + 1)) {
    ++loud_lines;
  }
  EXPECT_EQ(loud_lines, 1u) << text;
  const std::string pem = testing::private_key_pem(other_key.get());
  EXPECT_THAT(text, ::testing::Not(HasSubstr(pem.substr(pem.find('\n') + 1, 32))));  // no key material
}

TEST_F(ProviderTest, ExpiredProviderTokenRefreshesOnlyOnceTheTokenIsTwentyMinutesOld) {
  // Our clock runs 70 minutes behind the simulator's: the first token is already expired there.
  clock_offset_s = -70 * 60;
  auto provider = make_provider(apns_config());
  auto outcome = send(*provider, device_token("ff"));
  EXPECT_EQ(outcome.kind, OutcomeKind::retry);
  EXPECT_EQ(outcome.reason, "ExpiredProviderToken");
  EXPECT_EQ(provider->tokens_minted(), 1u);  // the token is 0 minutes old by our clock: kept

  // 25 minutes later by our clock: still the same token (younger than 50 minutes), APNs still
  // says expired, and now the cache may mint a new one.
  clock_offset_s = -45 * 60;
  outcome = send(*provider, device_token("ff"));
  EXPECT_EQ(outcome.reason, "ExpiredProviderToken");
  EXPECT_EQ(provider->tokens_minted(), 2u);

  outcome = send(*provider, device_token("ff"));
  EXPECT_EQ(outcome.kind, OutcomeKind::delivered) << outcome.reason;
  EXPECT_EQ(provider->tokens_minted(), 2u);
  stop(*provider);
}

TEST_F(ProviderTest, CertificateAuthSendsNoBearerAndPresentsTheClientCertificate) {
  // A simulator that does not check provider tokens, as APNs does not with certificate auth.
  Simulator no_auth_sim(dir, {"--no-auth"});
  const testing::Pkey client_key = testing::ec_key();
  auto config = apns_config();
  config.endpoint = no_auth_sim.endpoint();
  config.ca_file = no_auth_sim.cert_file;
  config.auth = {};
  config.auth.type = config::ApnsAuthConfig::Type::certificate;
  config.auth.cert_file = dir.write("client.pem", testing::certificate_pem(
                                                      testing::self_signed(client_key.get(), "Apple Push Services: com.example.app").get()));
  config.auth.key_file = dir.write("client-key.pem", testing::private_key_pem(client_key.get()));
  auto provider = make_provider(config);
  const auto outcome = send(*provider, device_token("ab"));
  EXPECT_EQ(outcome.kind, OutcomeKind::delivered) << outcome.reason;
  EXPECT_EQ(provider->tokens_minted(), 0u);
  const auto health = provider->health();
  EXPECT_TRUE(health.ok) << health.error;
  EXPECT_THAT(health.credentials, HasSubstr("Apple Push Services: com.example.app"));
  stop(*provider);
}

TEST_F(ProviderTest, ExpiredClientCertificateMakesHealthFail) {
  const testing::Pkey client_key = testing::ec_key();
  auto config = apns_config();
  config.auth = {};
  config.auth.type = config::ApnsAuthConfig::Type::certificate;
  config.auth.cert_file = dir.write("old.pem", testing::certificate_pem(
                                                   testing::self_signed(client_key.get(), "old", -7200, -3600).get()));
  config.auth.key_file = dir.write("old-key.pem", testing::private_key_pem(client_key.get()));
  Provider provider(io.get_executor(), config, load_credentials(config.auth, "apps.demo.apns.auth"));
  const auto health = provider.health();
  EXPECT_FALSE(health.ok);
  EXPECT_THAT(health.error, HasSubstr("expired at"));
}

TEST_F(ProviderTest, BadEndpointFailsStartWithAClearError) {
  auto config = apns_config();
  config.endpoint = "http://api.push.apple.com";
  Provider provider(io.get_executor(), config, load_credentials(config.auth, "apps.demo.apns.auth"));
  std::string error;
  EXPECT_FALSE(provider.start(&error));
  EXPECT_THAT(error, HasSubstr("http://api.push.apple.com"));
}

TEST_F(ProviderTest, SendBeforeStartIsARetry) {
  const auto config = apns_config();
  Provider provider(io.get_executor(), config, load_credentials(config.auth, "apps.demo.apns.auth"));
  auto n = alert();
  const std::string token = device_token("aa");
  n.tokens = {token};
  const auto outcome = run(io, provider.async_send(provider.prepare(n), token, asio::use_awaitable));
  EXPECT_EQ(outcome.kind, OutcomeKind::retry);
  EXPECT_THAT(outcome.reason, HasSubstr("not started"));
}

TEST(ProviderEndpoints, AppleHosts) {
  EXPECT_EQ(kProductionEndpoint, "https://api.push.apple.com");
  EXPECT_EQ(kSandboxEndpoint, "https://api.sandbox.push.apple.com");
}

}  // namespace
}  // namespace pushgw::apns
