// The provider against a real pushgw-sim child process on a loopback port (TLS, HTTP/2, the
// simulated OAuth endpoint checking our RS256 assertions): deliveries, every token-selected
// outcome, one access token for many sends, 401 handling, and credentials errors logged once
// and reported by health().

#include "pushgw/fcm/provider.hpp"

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

#include "fcm/fixtures.hpp"
#include "pushgw/h2/connection.hpp"
#include "pushgw/log/log.hpp"
#include "support/process.hpp"

namespace pushgw::fcm {
namespace {

namespace asio = boost::asio;
using job::OutcomeKind;
using ::testing::HasSubstr;
using ::testing::StartsWith;
using namespace std::chrono_literals;

constexpr const char* kConfigPath = "apps.demo.fcm.service_account_file";

std::filesystem::path sim_binary() {
  const std::string build_dir = test::env_or("PUSHGW_BUILD_DIR", "");
  if (!build_dir.empty()) return std::filesystem::path(build_dir) / "pushgw-sim";
  // Run by hand: <build>/tests/fcm/pushgw_fcm_tests → <build>/pushgw-sim
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

job::Notification alert(const std::string& text = "hello") {
  job::Notification n;
  n.platform = job::Platform::android;
  n.title = "Title";
  n.message = text;
  return n;
}

// A pushgw-sim with a generated TLS certificate, .p8 key and service account whose token_uri
// is the simulator's /token.
struct Simulator {
  explicit Simulator(const testing::TempDir& dir) {
    const testing::Pkey tls_key = apns::testing::ec_key();
    cert_file = dir.write("sim-cert.pem", apns::testing::certificate_pem(
                                              apns::testing::self_signed(tls_key.get(), "localhost").get()));
    const std::string key_file = dir.write("sim-key.pem", apns::testing::private_key_pem(tls_key.get()));
    const testing::Pkey apns_key = apns::testing::ec_key();
    const std::string p8_file = dir.write("AuthKey_sim.p8", apns::testing::private_key_pem(apns_key.get()));
    port = test::free_tcp_port();
    token_uri = endpoint() + "/token";
    service_account_file = dir.write("service-account.json", testing::service_account_json(token_uri).dump(2));
    std::vector<std::string> argv = {sim_binary().string(), "--listen", "127.0.0.1:" + std::to_string(port),
                                     "--cert", cert_file, "--key", key_file, "--apns-key", p8_file,
                                     "--fcm-service-account", service_account_file};
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

  std::string cert_file;
  std::string service_account_file;
  std::string token_uri;
  std::uint16_t port = 0;
  std::optional<test::ChildProcess> process;
};

struct FcmProviderTest : ::testing::Test {
  testing::TempDir dir;
  asio::io_context io;
  Simulator sim{dir};

  config::FcmConfig fcm_config() {
    config::FcmConfig config;
    config.endpoint = sim.endpoint();
    config.ca_file = sim.cert_file;
    config.service_account_file = sim.service_account_file;
    config.connections = 2;
    config.request_timeout = 2000ms;
    return config;
  }

  std::unique_ptr<Provider> make_provider(const config::FcmConfig& config, ProviderOptions options = {}) {
    options.app = "demo";
    auto provider = std::make_unique<Provider>(io.get_executor(), config,
                                               load_service_account(config.service_account_file, kConfigPath),
                                               options);
    std::string error;
    EXPECT_TRUE(provider->start(&error)) << error;
    return provider;
  }

  // `n` and `token` outlive the send: run() returns only once it has completed.
  job::SendOutcome send(Provider& provider, const std::string& token, job::Notification n = alert()) {
    n.tokens = {token};
    return run(io, provider.async_send(provider.prepare(n), token, asio::use_awaitable));
  }

  // Sends to every token at once and collects the outcomes in order.
  std::vector<job::SendOutcome> send_concurrently(Provider& provider, const std::vector<std::string>& tokens) {
    std::vector<job::Notification> notifications(tokens.size(), alert());
    std::vector<std::future<job::SendOutcome>> futures;
    for (std::size_t i = 0; i < tokens.size(); ++i) {
      notifications[i].message = "message " + std::to_string(i);
      notifications[i].tokens = {tokens[i]};
      futures.push_back(asio::co_spawn(io, provider.async_send(provider.prepare(notifications[i]), tokens[i], asio::use_awaitable), asio::use_future));
    }
    std::vector<job::SendOutcome> outcomes;
    for (auto& future : futures) {
      const auto give_up = std::chrono::steady_clock::now() + 60s;
      while (future.wait_for(0s) != std::future_status::ready) {
        if (std::chrono::steady_clock::now() > give_up) throw std::runtime_error("sends did not finish in 60 s");
        io.run_one_for(50ms);
      }
      outcomes.push_back(future.get());
    }
    return outcomes;
  }

  void force(const std::string& config_json) { sim.control(io, "POST", "/sim/config", config_json); }

  void stop(Provider& provider) { run(io, provider.stop(1000ms)); }
};

TEST_F(FcmProviderTest, DeliversWithTheMessageNameAndTheSimulatorCountsIt) {
  auto provider = make_provider(fcm_config());
  for (int i = 0; i < 5; ++i) {
    const auto outcome = send(*provider, "device-token-1", alert("message " + std::to_string(i)));
    EXPECT_EQ(outcome.kind, OutcomeKind::delivered) << outcome.reason;
    EXPECT_EQ(outcome.status, 200);
    EXPECT_THAT(outcome.provider_id, StartsWith(std::string("projects/") + testing::kProjectId + "/messages/"));
  }
  const auto stats = sim.control(io, "GET", "/sim/stats");
  EXPECT_EQ(stats.at("unique"), 5);
  EXPECT_EQ(stats.at("duplicates"), 0);
  EXPECT_TRUE(provider->health().ok);
  EXPECT_EQ(provider->tokens_fetched(), 1u);  // one access token for every send
  stop(*provider);
}

TEST_F(FcmProviderTest, ConcurrentSendsShareOneAccessTokenFetch) {
  auto provider = make_provider(fcm_config());
  std::vector<std::string> tokens;
  for (int i = 0; i < 20; ++i) tokens.push_back("device-token-" + std::to_string(i));
  const auto outcomes = send_concurrently(*provider, tokens);
  for (const auto& outcome : outcomes) EXPECT_EQ(outcome.kind, OutcomeKind::delivered) << outcome.reason;
  EXPECT_EQ(provider->tokens_fetched(), 1u);
  EXPECT_EQ(sim.control(io, "GET", "/sim/stats").at("unique"), 20);
  stop(*provider);
}

TEST_F(FcmProviderTest, DeadTokensCarryTheirReason) {
  auto provider = make_provider(fcm_config());
  auto outcome = send(*provider, "unregistered-1");
  EXPECT_EQ(outcome.kind, OutcomeKind::token_dead);
  EXPECT_EQ(outcome.status, 404);
  EXPECT_EQ(outcome.reason, "UNREGISTERED");

  outcome = send(*provider, "invalid-1");
  EXPECT_EQ(outcome.kind, OutcomeKind::token_dead);
  EXPECT_EQ(outcome.status, 400);
  EXPECT_EQ(outcome.reason, "INVALID_ARGUMENT");

  outcome = send(*provider, "senderid-1");
  EXPECT_EQ(outcome.kind, OutcomeKind::token_dead);
  EXPECT_EQ(outcome.status, 403);
  EXPECT_EQ(outcome.reason, "SENDER_ID_MISMATCH");
  EXPECT_TRUE(provider->health().ok);  // a token of another project says nothing about ours
  stop(*provider);
}

TEST_F(FcmProviderTest, TransientErrorsAreRetriesWithRetryAfterWhenGiven) {
  auto provider = make_provider(fcm_config());
  auto outcome = send(*provider, "quota-1");
  EXPECT_EQ(outcome.kind, OutcomeKind::retry);
  EXPECT_EQ(outcome.status, 429);
  EXPECT_EQ(outcome.reason, "QUOTA_EXCEEDED");
  EXPECT_EQ(outcome.retry_after, 1s);

  outcome = send(*provider, "unavailable-1");
  EXPECT_EQ(outcome.kind, OutcomeKind::retry);
  EXPECT_EQ(outcome.status, 503);
  EXPECT_EQ(outcome.reason, "UNAVAILABLE");

  outcome = send(*provider, "internal-1");
  EXPECT_EQ(outcome.kind, OutcomeKind::retry);
  EXPECT_EQ(outcome.status, 500);
  EXPECT_EQ(outcome.reason, "INTERNAL");
  EXPECT_TRUE(provider->health().ok);
  stop(*provider);
}

TEST_F(FcmProviderTest, NoAnswerIsARetryAfterTheRequestTimeout) {
  auto config = fcm_config();
  config.request_timeout = 500ms;
  auto provider = make_provider(config);
  const auto outcome = send(*provider, "noanswer-1");
  EXPECT_EQ(outcome.kind, OutcomeKind::retry);
  EXPECT_EQ(outcome.status, 0);
  EXPECT_THAT(outcome.reason, HasSubstr("transport error"));
  stop(*provider);
}

TEST_F(FcmProviderTest, AMessageFcmRefusesIsRejected) {
  auto provider = make_provider(fcm_config());
  auto n = alert();
  n.fcm = nlohmann::json{{"android", {{"priority", "URGENT"}}}};
  const auto outcome = send(*provider, "device-token-1", n);
  EXPECT_EQ(outcome.kind, OutcomeKind::rejected);
  EXPECT_EQ(outcome.status, 400);
  EXPECT_EQ(outcome.reason, "INVALID_ARGUMENT");
  EXPECT_TRUE(provider->health().ok);  // rejected notifications are not a credentials problem
  stop(*provider);
}

TEST_F(FcmProviderTest, EveryMappedFieldPassesTheSimulatorsChecks) {
  auto provider = make_provider(fcm_config());
  auto n = alert();
  n.image = "https://example.com/a.png";
  n.sound = "default";
  n.category = "OPEN";
  n.badge = 2;
  n.priority = job::Priority::high;
  n.collapse_id = "c1";
  n.expiration = std::chrono::duration_cast<std::chrono::seconds>(
                     std::chrono::system_clock::now().time_since_epoch()).count() + 600;
  n.data = nlohmann::json{{"id", 42}, {"flag", true}};
  n.fcm = nlohmann::json{{"apns", {{"headers", {{"apns-priority", "10"}}}}}};
  const auto outcome = send(*provider, "device-token-1", n);
  EXPECT_EQ(outcome.kind, OutcomeKind::delivered) << outcome.reason;
  stop(*provider);
}

TEST_F(FcmProviderTest, EmptyTokenIsRejectedWithoutSending) {
  auto provider = make_provider(fcm_config());
  const auto outcome = send(*provider, "");
  EXPECT_EQ(outcome.kind, OutcomeKind::rejected);
  EXPECT_EQ(outcome.reason, "MissingRegistration");
  EXPECT_EQ(sim.control(io, "GET", "/sim/stats").at("received"), 0);
  EXPECT_EQ(provider->tokens_fetched(), 0u);
  stop(*provider);
}

TEST_F(FcmProviderTest, A401DropsTheAccessTokenAndTheNextSendFetchesANewOne) {
  ProviderOptions options;
  options.token_cache.min_refetch_interval = 0s;  // any 401 drops the token
  auto provider = make_provider(fcm_config(), options);
  EXPECT_EQ(send(*provider, "device-token-1").kind, OutcomeKind::delivered);
  force(R"({"force_status": 401})");
  const auto outcome = send(*provider, "device-token-1");
  EXPECT_EQ(outcome.kind, OutcomeKind::retry);
  EXPECT_EQ(outcome.status, 401);
  EXPECT_EQ(outcome.reason, "UNAUTHENTICATED");
  EXPECT_TRUE(provider->health().ok);
  EXPECT_EQ(provider->tokens_fetched(), 1u);
  force(R"({"force_status": null})");
  EXPECT_EQ(send(*provider, "device-token-1", alert("again")).kind, OutcomeKind::delivered);
  EXPECT_EQ(provider->tokens_fetched(), 2u);
  stop(*provider);
}

TEST_F(FcmProviderTest, A401ForAFreshTokenIsACredentialsErrorUntilFcmAcceptsUsAgain) {
  auto provider = make_provider(fcm_config());  // min_refetch_interval 30 s: the token is fresh
  force(R"({"force_status": 401})");
  auto outcome = send(*provider, "device-token-1");
  EXPECT_EQ(outcome.kind, OutcomeKind::credentials_error);
  EXPECT_EQ(outcome.reason, "UNAUTHENTICATED");
  auto health = provider->health();
  EXPECT_FALSE(health.ok);
  EXPECT_THAT(health.error, HasSubstr("401 UNAUTHENTICATED"));
  EXPECT_EQ(provider->tokens_fetched(), 1u);

  force(R"({"force_status": 401, "force_reason": "THIRD_PARTY_AUTH_ERROR"})");
  outcome = send(*provider, "device-token-1");
  EXPECT_EQ(outcome.kind, OutcomeKind::credentials_error);
  EXPECT_EQ(outcome.reason, "THIRD_PARTY_AUTH_ERROR");

  force(R"({"force_status": null, "force_reason": null})");
  EXPECT_EQ(send(*provider, "device-token-1").kind, OutcomeKind::delivered);
  health = provider->health();
  EXPECT_TRUE(health.ok) << health.error;
  stop(*provider);
}

TEST_F(FcmProviderTest, AnotherProjectIsACredentialsError) {
  // Same key and client_email (the simulator issues a token), but not the simulator's project.
  auto doc = testing::service_account_json(sim.token_uri);
  doc["project_id"] = "someone-elses-project";
  auto config = fcm_config();
  config.service_account_file = dir.write("other-project.json", doc.dump());
  auto provider = make_provider(config);
  const auto outcome = send(*provider, "device-token-1");
  EXPECT_EQ(outcome.kind, OutcomeKind::credentials_error);
  EXPECT_EQ(outcome.status, 403);
  EXPECT_EQ(outcome.reason, "PERMISSION_DENIED");
  EXPECT_FALSE(provider->health().ok);
  stop(*provider);
}

TEST_F(FcmProviderTest, WrongKeyIsACredentialsErrorLoggedOnceAndReportedByHealth) {
  std::ostringstream log_lines;
  log::setup_logging(config::LogConfig{}, std::make_shared<spdlog::sinks::ostream_sink_mt>(log_lines));

  const testing::Pkey other_key = apns::testing::rsa_key();
  const std::string other_pem = apns::testing::private_key_pem(other_key.get());
  auto config = fcm_config();
  config.service_account_file = dir.write("wrong-key.json", testing::service_account_json(sim.token_uri, other_pem).dump());
  auto provider = make_provider(config);
  for (int i = 0; i < 3; ++i) {
    const auto outcome = send(*provider, "device-token-1");
    EXPECT_EQ(outcome.kind, OutcomeKind::credentials_error);
    EXPECT_EQ(outcome.status, 0);  // FCM never saw it: the token endpoint refused us
    EXPECT_EQ(outcome.reason, "invalid_grant");
  }
  const auto health = provider->health();
  EXPECT_FALSE(health.ok);
  EXPECT_THAT(health.error, HasSubstr("invalid_grant"));
  EXPECT_THAT(health.credentials, HasSubstr(testing::kClientEmail));
  EXPECT_EQ(provider->tokens_fetched(), 0u);
  EXPECT_EQ(sim.control(io, "GET", "/sim/stats").at("received"), 0);
  stop(*provider);
  log::setup_logging(config::LogConfig{});

  const std::string text = log_lines.str();
  std::size_t error_lines = 0;
  for (std::size_t at = text.find("refuses our credentials"); at != std::string::npos;
       at = text.find("refuses our credentials", at + 1)) {
    ++error_lines;
  }
  EXPECT_EQ(error_lines, 1u) << text;  // once, not once per send
  EXPECT_THAT(text, HasSubstr("invalid_grant"));
  EXPECT_THAT(text, HasSubstr("Invalid JWT Signature"));  // the endpoint's own words, in the log
  EXPECT_THAT(text, ::testing::Not(HasSubstr(other_pem.substr(other_pem.find('\n') + 1, 32))));  // no key material
}

TEST_F(FcmProviderTest, UnreachableTokenEndpointIsARetry) {
  auto doc = testing::service_account_json("https://127.0.0.1:" + std::to_string(test::free_tcp_port()) + "/token");
  auto config = fcm_config();
  config.service_account_file = dir.write("unreachable.json", doc.dump());
  ProviderOptions options;
  options.connect_timeout = 1000ms;
  auto provider = make_provider(config, options);
  const auto outcome = send(*provider, "device-token-1");
  EXPECT_EQ(outcome.kind, OutcomeKind::retry);
  EXPECT_EQ(outcome.status, 0);
  EXPECT_THAT(outcome.reason, StartsWith("oauth transport error"));
  EXPECT_TRUE(provider->health().ok);  // nothing says our credentials are wrong
  stop(*provider);
}

TEST_F(FcmProviderTest, BadEndpointFailsStartWithAClearError) {
  auto config = fcm_config();
  config.endpoint = "http://fcm.googleapis.com";
  Provider provider(io.get_executor(), config, load_service_account(config.service_account_file, kConfigPath));
  std::string error;
  EXPECT_FALSE(provider.start(&error));
  EXPECT_THAT(error, HasSubstr("http://fcm.googleapis.com"));
}

TEST_F(FcmProviderTest, UnreadableCaFileFailsStart) {
  auto config = fcm_config();
  config.ca_file = dir.file("missing-ca.pem");
  Provider provider(io.get_executor(), config, load_service_account(config.service_account_file, kConfigPath));
  std::string error;
  EXPECT_FALSE(provider.start(&error));
  EXPECT_THAT(error, HasSubstr("missing-ca.pem"));
}

TEST_F(FcmProviderTest, SendBeforeStartIsARetry) {
  const auto config = fcm_config();
  Provider provider(io.get_executor(), config, load_service_account(config.service_account_file, kConfigPath));
  job::Notification n = alert();
  const std::string token = "device-token-1";
  n.tokens = {token};
  const auto outcome = run(io, provider.async_send(provider.prepare(n), token, asio::use_awaitable));
  EXPECT_EQ(outcome.kind, OutcomeKind::retry);
  EXPECT_THAT(outcome.reason, HasSubstr("not started"));
  EXPECT_EQ(provider.tokens_fetched(), 0u);
  EXPECT_TRUE(provider.health().ok);
  EXPECT_THAT(provider.health().credentials, HasSubstr(testing::kProjectId));
}

TEST(FcmProviderEndpoints, GoogleHost) { EXPECT_EQ(kProductionEndpoint, "https://fcm.googleapis.com"); }

}  // namespace
}  // namespace pushgw::fcm
