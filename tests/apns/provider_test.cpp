// The provider against a real pushgw-sim child process on a loopback port: successes and
// every outcome class, provider-token refresh after ExpiredProviderToken, credentials errors
// logged once and reported by health(), and certificate auth.

#include "pushgw/apns/provider.hpp"

#include <algorithm>
#include <filesystem>
#include <sstream>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <spdlog/sinks/ostream_sink.h>

#include "apns/test_keys.hpp"
#include "pushgw/apns/channels.hpp"
#include "pushgw/job/validate.hpp"
#include "pushgw/log/log.hpp"
#include "support/asio_wait.hpp"
#include "support/sim_process.hpp"

namespace pushgw::apns {
namespace {

namespace asio = boost::asio;
using job::OutcomeKind;
using ::testing::HasSubstr;
using namespace std::chrono_literals;

constexpr const char* kTopic = "com.example.app";

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

struct ProviderTest : ::testing::Test {
  testing::TempDir dir;
  asio::io_context io;
  test::SimCredentials credentials = test::dev_sim_credentials();
  test::SimProcess sim{{}, credentials};
  std::int64_t clock_offset_s = 0;  // added to the real clock for provider-token iat

  config::ApnsConfig apns_config() {
    config::ApnsConfig config;
    config.endpoint = sim.endpoint();
    config.ca_file = sim.cert_file();
    config.topic = kTopic;
    config.connections = 2;
    config.request_timeout = 2000ms;
    config.auth.type = config::ApnsAuthConfig::Type::token;
    config.auth.key_file = credentials.apns_key_file;
    config.auth.key_id = credentials.apns_key_id;
    config.auth.team_id = credentials.apns_team_id;
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
    return test::run_until_done(io, provider.async_send({}, provider.prepare(n), token, asio::use_awaitable));
  }

  void stop(Provider& provider) { test::run_until_done(io, provider.stop(1000ms)); }
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
  const auto stats = sim.stats();
  EXPECT_EQ(stats.at("unique"), 5);
  EXPECT_EQ(stats.at("duplicates"), 0);
  EXPECT_TRUE(provider->health().ok);
  EXPECT_EQ(provider->tokens_minted(), 1u);  // one provider token shared by every request
  stop(*provider);
}

// What the simulator recorded for the request that carried `token` (the last one).
nlohmann::json request_for(test::SimProcess& sim, const std::string& path) {
  nlohmann::json found;
  for (const auto& request : sim.requests()) {
    if (request.at("path") == path) found = request;
  }
  EXPECT_FALSE(found.is_null()) << "no request to " << path;
  return found;
}

// Every push type Apple defines, sent as pushgw builds it: the simulator checks each one's topic
// suffix, priority and payload rules, and records the headers.
TEST_F(ProviderTest, EveryPushTypeGoesWithItsTopicPriorityAndPushTypeHeaders) {
  sim.configure({{"record_requests", true}});
  auto provider = make_provider(apns_config());
  struct Case {
    std::string type, topic, priority;
  };
  const std::vector<Case> cases = {
      {"alert", "com.example.app", "10"},
      {"background", "com.example.app", "5"},
      {"location", "com.example.app.location-query", "10"},
      {"voip", "com.example.app.voip", "10"},
      {"complication", "com.example.app.complication", "10"},
      {"fileprovider", "com.example.app.pushkit.fileprovider", "10"},
      {"mdm", "com.apple.mgmt.External.0f1e2d3c", "10"},
      {"liveactivity", "com.example.app.push-type.liveactivity", "10"},
      {"pushtotalk", "com.example.app.voip-ptt", "10"},
      {"widgets", "com.example.app.push-type.widgets", "10"},
  };
  ASSERT_EQ(cases.size(), std::size(job::kApnsPushTypes));
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const auto& c = cases[i];
    job::Notification n = alert();
    n.push_type = c.type;
    if (c.type == "background") {  // a silent update: no alert
      n = job::Notification{};
      n.push_type = c.type;
      n.content_available = true;
    }
    if (c.type == "mdm") n.topic = c.topic;
    if (c.type == "liveactivity") n.live_activity = nlohmann::json{{"event", "update"}, {"content_state", {{"score", "1-0"}}}};
    const std::string token = device_token("ab" + std::to_string(10 + i));
    const auto outcome = send(*provider, token, n);
    EXPECT_EQ(outcome.kind, OutcomeKind::delivered) << c.type << ": " << outcome.reason;
    const auto headers = request_for(sim, "/3/device/" + token).at("headers");
    EXPECT_EQ(headers.value("apns-push-type", ""), c.type);
    EXPECT_EQ(headers.value("apns-topic", ""), c.topic) << c.type;
    EXPECT_EQ(headers.value("apns-priority", ""), c.priority) << c.type;
  }
  stop(*provider);
}

// Push-to-start (iOS 17.2), an update at low priority, and the end with a dismissal date.
TEST_F(ProviderTest, ALiveActivityIsStartedUpdatedAndEndedWithActivityKitsPayloads) {
  sim.configure({{"record_requests", true}});
  auto provider = make_provider(apns_config());
  const std::string start_token = device_token("ab01");  // a push-to-start token
  const std::string activity_token = device_token("ab02");  // the activity's own token
  job::Notification start = alert("Lyon - Nice");
  start.title = "Kick-off";
  start.live_activity = nlohmann::json{{"event", "start"},
                         {"content_state", {{"home", 0}, {"away", 0}}},
                         {"attributes_type", "MatchAttributes"},
                         {"attributes", {{"home", "Lyon"}, {"away", "Nice"}}},
                         {"input_push_token", true},
                         {"timestamp", 1700000000}};
  job::Notification update;
  update.priority = job::Priority::normal;
  update.live_activity = nlohmann::json{{"event", "update"}, {"content_state", {{"home", 1}, {"away", 0}}}, {"stale_date", 1700003600},
                          {"relevance_score", 80}};
  job::Notification end;
  end.live_activity = nlohmann::json{{"event", "end"}, {"content_state", {{"home", 2}, {"away", 1}}}, {"dismissal_date", 1700007200}};
  for (const auto* step : {&start, &update, &end}) {
    const auto& token = step == &start ? start_token : activity_token;
    const auto outcome = send(*provider, token, *step);
    EXPECT_EQ(outcome.kind, OutcomeKind::delivered) << outcome.reason;
  }
  const auto requests = sim.requests();
  ASSERT_EQ(requests.size(), 3u);
  for (const auto& request : requests) {
    EXPECT_EQ(request["headers"]["apns-push-type"], "liveactivity");
    EXPECT_EQ(request["headers"]["apns-topic"], "com.example.app.push-type.liveactivity");
  }
  EXPECT_EQ(requests[0]["path"], "/3/device/" + start_token);
  EXPECT_EQ(requests[0]["headers"]["apns-priority"], "10");
  EXPECT_EQ(requests[0]["body"]["aps"],
            (nlohmann::json{{"alert", {{"title", "Kick-off"}, {"body", "Lyon - Nice"}}},
                            {"event", "start"},
                            {"content-state", {{"home", 0}, {"away", 0}}},
                            {"timestamp", 1700000000},
                            {"attributes-type", "MatchAttributes"},
                            {"attributes", {{"home", "Lyon"}, {"away", "Nice"}}},
                            {"input-push-token", 1}}));
  EXPECT_EQ(requests[1]["headers"]["apns-priority"], "5");
  EXPECT_EQ(requests[1]["body"]["aps"]["event"], "update");
  EXPECT_EQ(requests[1]["body"]["aps"]["stale-date"], 1700003600);
  EXPECT_EQ(requests[1]["body"]["aps"]["relevance-score"], 80);
  EXPECT_TRUE(requests[1]["body"]["aps"]["timestamp"].is_number_integer());
  EXPECT_EQ(requests[2]["body"]["aps"]["event"], "end");
  EXPECT_EQ(requests[2]["body"]["aps"]["dismissal-date"], 1700007200);

  // The simulator refuses what ActivityKit would drop: a start without its attributes.
  job::Notification bad = start;
  bad.live_activity->erase("attributes");
  const auto refused = send(*provider, start_token, bad);
  EXPECT_EQ(refused.kind, OutcomeKind::rejected);
  EXPECT_EQ(refused.reason, "BadPayload");
  stop(*provider);
}

// iOS 18 broadcast: a channel created, a Live Activity update sent to it, the channel deleted.
TEST_F(ProviderTest, ABroadcastGoesToTheChannelUntilItIsDeleted) {
  sim.configure({{"record_requests", true}});
  const auto config = apns_config();
  ChannelClient channels(io.get_executor(), config, load_credentials(config.auth, "apps.demo.apns.auth"));
  const auto created = test::run_until_done(io, channels.run(ChannelAction::create, {.channel_id = "", .storage_policy = 0}));
  ASSERT_TRUE(created.ok) << created.reason;

  auto provider = make_provider(config);
  job::Notification n;
  n.target = job::Target::apns_channel;
  n.live_activity = nlohmann::json{{"event", "update"}, {"content_state", {{"home", 1}}}};
  auto outcome = send(*provider, created.channel_id, n);
  EXPECT_EQ(outcome.kind, OutcomeKind::delivered) << outcome.reason;
  EXPECT_EQ(outcome.provider_id.size(), 36u) << "the apns-unique-id";
  const auto request = request_for(sim, "/4/broadcasts/apps/com.example.app");
  EXPECT_EQ(request["headers"]["apns-channel-id"], created.channel_id);
  EXPECT_EQ(request["headers"]["apns-push-type"], "liveactivity");
  EXPECT_EQ(request["headers"]["apns-expiration"], "0");
  EXPECT_FALSE(request["headers"].contains("apns-topic"));
  EXPECT_EQ(request["body"]["aps"]["content-state"], (nlohmann::json{{"home", 1}}));

  // A channel that stores nothing takes no later expiration; that is the notification's fault.
  n.expiration = 1900000000;
  outcome = send(*provider, created.channel_id, n);
  EXPECT_EQ(outcome.kind, OutcomeKind::rejected);
  EXPECT_EQ(outcome.reason, "BadExpirationDate");

  const auto deleted =
      test::run_until_done(io, channels.run(ChannelAction::remove, {.channel_id = created.channel_id, .storage_policy = 0}));
  EXPECT_TRUE(deleted.ok) << deleted.reason;
  n.expiration.reset();
  outcome = send(*provider, created.channel_id, n);
  EXPECT_EQ(outcome.kind, OutcomeKind::rejected) << "a channel is never a dead token";
  EXPECT_EQ(outcome.reason, "ChannelNotRegistered");
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
  EXPECT_EQ(sim.stats().at("received"), 0);
  stop(*provider);
}

TEST_F(ProviderTest, ServerErrorsForcedBySimulatorConfigAreClassified) {
  auto provider = make_provider(apns_config());
  sim.configure(nlohmann::json::parse(R"({"force_status": 413, "force_reason": "PayloadTooLarge"})"));
  EXPECT_EQ(send(*provider, device_token("dd")).kind, OutcomeKind::rejected);
  sim.configure(nlohmann::json::parse(R"({"force_status": 503, "force_reason": "Shutdown"})"));
  EXPECT_EQ(send(*provider, device_token("dd")).kind, OutcomeKind::retry);
  sim.configure(nlohmann::json::parse(R"({"force_status": 403, "force_reason": "BadCertificateEnvironment"})"));
  EXPECT_EQ(send(*provider, device_token("dd")).kind, OutcomeKind::credentials_error);
  EXPECT_FALSE(provider->health().ok);
  sim.configure(nlohmann::json::parse(R"({"force_status": null, "force_reason": null})"));
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
  EXPECT_THAT(health.credentials, HasSubstr(credentials.apns_key_id));
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
  test::SimProcess no_auth_sim({"--no-auth"}, credentials);
  const testing::Pkey client_key = testing::ec_key();
  auto config = apns_config();
  config.endpoint = no_auth_sim.endpoint();
  config.ca_file = no_auth_sim.cert_file();
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
  const auto outcome = test::run_until_done(io, provider.async_send({}, provider.prepare(n), token, asio::use_awaitable));
  EXPECT_EQ(outcome.kind, OutcomeKind::retry);
  EXPECT_THAT(outcome.reason, HasSubstr("not started"));
}

TEST(ProviderEndpoints, AppleHosts) {
  EXPECT_EQ(kProductionEndpoint, "https://api.push.apple.com");
  EXPECT_EQ(kSandboxEndpoint, "https://api.sandbox.push.apple.com");
}

}  // namespace
}  // namespace pushgw::apns
