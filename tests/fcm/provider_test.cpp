// The provider against a real pushgw-sim child process on a loopback port (TLS, HTTP/2, the
// simulated OAuth endpoint checking our RS256 assertions): deliveries, every token-selected
// outcome, one access token for many sends, 401 handling, and credentials errors logged once
// and reported by health().

#include "pushgw/fcm/provider.hpp"

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

#include "fcm/fixtures.hpp"
#include "pushgw/log/log.hpp"
#include "support/asio_wait.hpp"
#include "support/sim_process.hpp"

namespace pushgw::fcm {
namespace {

namespace asio = boost::asio;
using job::OutcomeKind;
using ::testing::HasSubstr;
using ::testing::StartsWith;
using namespace std::chrono_literals;

constexpr const char* kConfigPath = "apps.demo.fcm.service_account_file";

job::Notification alert(const std::string& text = "hello") {
  job::Notification n;
  n.platform = job::Platform::android;
  n.title = "Title";
  n.message = text;
  return n;
}

// The simulator's credentials with the test service account instead of the dev one (the
// simulator's copy gets token_uri at its own /token).
test::SimCredentials with_test_service_account(const testing::TempDir& dir) {
  auto credentials = test::dev_sim_credentials();
  credentials.fcm_service_account_file = dir.write("service-account.json", testing::service_account_json().dump(2));
  return credentials;
}

struct FcmProviderTest : ::testing::Test {
  testing::TempDir dir;
  asio::io_context io;
  test::SimProcess sim{{}, with_test_service_account(dir)};

  config::FcmConfig fcm_config() {
    config::FcmConfig config;
    config.endpoint = sim.endpoint();
    config.ca_file = sim.cert_file();
    config.service_account_file = sim.service_account_file();
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
    return test::run_until_done(io, provider.async_send({}, provider.prepare(n), token, asio::use_awaitable));
  }

  // Sends to every token at once and collects the outcomes in order.
  std::vector<job::SendOutcome> send_concurrently(Provider& provider, const std::vector<std::string>& tokens) {
    std::vector<job::Notification> notifications(tokens.size(), alert());
    std::vector<std::future<job::SendOutcome>> futures;
    for (std::size_t i = 0; i < tokens.size(); ++i) {
      notifications[i].message = "message " + std::to_string(i);
      notifications[i].tokens = {tokens[i]};
      futures.push_back(asio::co_spawn(io, provider.async_send({}, provider.prepare(notifications[i]), tokens[i], asio::use_awaitable), asio::use_future));
    }
    const bool all_done = test::run_until(io, [&] {
      return std::all_of(futures.begin(), futures.end(), [](auto& f) { return f.wait_for(0s) == std::future_status::ready; });
    });
    if (!all_done) throw std::runtime_error("the sends did not finish (a hang guard)");
    std::vector<job::SendOutcome> outcomes;
    for (auto& future : futures) outcomes.push_back(future.get());
    return outcomes;
  }

  void force(const std::string& config_json) { sim.configure(nlohmann::json::parse(config_json)); }

  void stop(Provider& provider) { test::run_until_done(io, provider.stop(1000ms)); }
};

TEST_F(FcmProviderTest, DeliversWithTheMessageNameAndTheSimulatorCountsIt) {
  auto provider = make_provider(fcm_config());
  for (int i = 0; i < 5; ++i) {
    const auto outcome = send(*provider, "device-token-1", alert("message " + std::to_string(i)));
    EXPECT_EQ(outcome.kind, OutcomeKind::delivered) << outcome.reason;
    EXPECT_EQ(outcome.status, 200);
    EXPECT_THAT(outcome.provider_id, StartsWith(std::string("projects/") + testing::kProjectId + "/messages/"));
  }
  const auto stats = sim.stats();
  EXPECT_EQ(stats.at("unique"), 5);
  EXPECT_EQ(stats.at("duplicates"), 0);
  EXPECT_TRUE(provider->health().ok);
  EXPECT_EQ(provider->tokens_fetched(), 1u);  // one access token for every send
  stop(*provider);
}

// A topic and a condition reach FCM in the v1 shape: message.topic (no "/topics/" prefix) or
// message.condition, instead of message.token, and FCM answers with a message name as for tokens.
TEST_F(FcmProviderTest, TopicsAndConditionsAreSentWithTheV1Shape) {
  sim.configure({{"record_requests", true}});
  auto provider = make_provider(fcm_config());
  auto news = alert("Breaking");
  news.target = job::Target::fcm_topic;
  auto outcome = send(*provider, "news", news);
  EXPECT_EQ(outcome.kind, OutcomeKind::delivered) << outcome.reason;
  EXPECT_THAT(outcome.provider_id, StartsWith("projects/"));
  auto sport = alert("Goal");
  sport.target = job::Target::fcm_condition;
  const std::string condition = "'sport' in topics && ('lyon' in topics || 'nice' in topics)";
  outcome = send(*provider, condition, sport);
  EXPECT_EQ(outcome.kind, OutcomeKind::delivered) << outcome.reason;

  const auto requests = sim.requests();
  ASSERT_EQ(requests.size(), 2u);
  const auto& topic_message = requests[0]["body"]["message"];
  EXPECT_EQ(topic_message["topic"], "news");
  EXPECT_FALSE(topic_message.contains("token"));
  EXPECT_EQ(topic_message["notification"], (nlohmann::json{{"title", "Title"}, {"body", "Breaking"}}));
  EXPECT_EQ(requests[1]["body"]["message"]["condition"], condition);
  EXPECT_FALSE(requests[1]["body"]["message"].contains("token"));

  // Outcomes as for tokens: a transient error is a retry; what FCM refuses is rejected.
  outcome = send(*provider, "unavailable-news", news);
  EXPECT_EQ(outcome.kind, OutcomeKind::retry);
  outcome = send(*provider, "'a' in topics &&", sport);
  EXPECT_EQ(outcome.kind, OutcomeKind::rejected);
  EXPECT_EQ(outcome.status, 400);
  stop(*provider);
}

TEST_F(FcmProviderTest, ConcurrentSendsShareOneAccessTokenFetch) {
  auto provider = make_provider(fcm_config());
  std::vector<std::string> tokens;
  for (int i = 0; i < 20; ++i) tokens.push_back("device-token-" + std::to_string(i));
  const auto outcomes = send_concurrently(*provider, tokens);
  for (const auto& outcome : outcomes) EXPECT_EQ(outcome.kind, OutcomeKind::delivered) << outcome.reason;
  EXPECT_EQ(provider->tokens_fetched(), 1u);
  EXPECT_EQ(sim.stats().at("unique"), 20);
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
  EXPECT_EQ(sim.stats().at("received"), 0);
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
  auto doc = testing::service_account_json(sim.token_uri());
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
  config.service_account_file = dir.write("wrong-key.json", testing::service_account_json(sim.token_uri(), other_pem).dump());
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
  EXPECT_EQ(sim.stats().at("received"), 0);
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
  const auto outcome = test::run_until_done(io, provider.async_send({}, provider.prepare(n), token, asio::use_awaitable));
  EXPECT_EQ(outcome.kind, OutcomeKind::retry);
  EXPECT_THAT(outcome.reason, HasSubstr("not started"));
  EXPECT_EQ(provider.tokens_fetched(), 0u);
  EXPECT_TRUE(provider.health().ok);
  EXPECT_THAT(provider.health().credentials, HasSubstr(testing::kProjectId));
}

TEST(FcmProviderEndpoints, GoogleHost) { EXPECT_EQ(kProductionEndpoint, "https://fcm.googleapis.com"); }

}  // namespace
}  // namespace pushgw::fcm
