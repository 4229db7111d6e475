// The reliable delivery pipeline end to end: the real pushgw binary taking jobs from a real
// redis-server and delivering them to pushgw-sim over HTTP/2 and TLS. The simulator counts
// unique and duplicate deliveries, so these tests prove that nothing is lost and measure
// duplicates. Time limits here only turn a hang into a failure; they are not performance goals.

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <signal.h>

#include <chrono>
#include <cstdio>
#include <functional>
#include <map>
#include <thread>

#include "app/daemon.hpp"
#include "app/sim_process.hpp"
#include "support/http_client.hpp"
#include "support/redis_server.hpp"

namespace pushgw::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr const char* kLanes[] = {"high", "default", "bulk"};

// A valid APNs token, unique per i, that selects no special outcome in the simulator.
std::string token(std::size_t i, const std::string& prefix = "ab") {
  char hex[65];
  std::snprintf(hex, sizeof hex, "%064zx", i);
  return prefix + std::string(hex + prefix.size());
}

// A producer's job: `count` tokens starting at `first`.
std::string job(std::size_t first, std::size_t count, const std::string& extra = {}) {
  json j = {{"platform", "ios"}, {"title", "pipeline"}, {"tokens", json::array()}};
  for (std::size_t i = first; i < first + count; ++i) j["tokens"].push_back(token(i));
  std::string text = j.dump();
  if (!extra.empty()) text.insert(text.size() - 1, "," + extra);
  return text;
}

std::string queue_key(const std::string& lane) { return "pushgw:{" + lane + "}:queue"; }
std::string dead_key(const std::string& lane) { return "pushgw:{" + lane + "}:dead"; }
std::string retry_key(const std::string& lane) { return "pushgw:{" + lane + "}:retry"; }
std::string processing_key(const std::string& lane, const std::string& instance) {
  return "pushgw:{" + lane + "}:processing:" + instance;
}

void lpush(SyncRedis& redis, const std::string& key, const std::vector<std::string>& elements) {
  for (std::size_t i = 0; i < elements.size(); i += 1000) {
    std::vector<std::string> argv{"LPUSH", key};
    for (std::size_t k = i; k < std::min(elements.size(), i + 1000); ++k) argv.push_back(elements[k]);
    redis.command(argv);
  }
}

// `total` notifications in jobs of mixed sizes (1, 7, 50, 500, 3, ... tokens).
std::vector<std::string> mixed_jobs(std::size_t total, std::size_t first_token = 0) {
  static constexpr std::size_t sizes[] = {1, 7, 50, 500, 3, 120, 1, 64};
  std::vector<std::string> jobs;
  std::size_t done = 0;
  for (std::size_t k = 0; done < total; ++k) {
    const std::size_t n = std::min(sizes[k % std::size(sizes)], total - done);
    jobs.push_back(job(first_token + done, n));
    done += n;
  }
  return jobs;
}

// Polls `condition` until it holds; false after `limit` (a hang guard, not a timing goal).
bool eventually(const std::function<bool()>& condition, std::chrono::seconds limit = 180s) {
  const auto until = Clock::now() + limit;
  while (!condition()) {
    if (Clock::now() > until) return false;
    std::this_thread::sleep_for(50ms);
  }
  return true;
}

// Every pushgw queue, processing, retry and dead-letter key (empty lists do not exist).
std::vector<std::string> queue_keys(SyncRedis& redis) {
  std::vector<std::string> keys;
  auto reply = redis.command({"KEYS", "pushgw:{*"});
  for (std::size_t i = 0; i < reply->elements; ++i) keys.emplace_back(reply->element[i]->str, reply->element[i]->len);
  return keys;
}

std::size_t tokens_in(const std::vector<std::string>& elements) {
  std::size_t n = 0;
  for (const auto& e : elements) n += json::parse(e).at("tokens").size();
  return n;
}

class PipelineTest : public ::testing::Test {
 protected:
  void start_redis(RedisServerOptions options = {}) {
    redis_ = std::make_unique<RedisServer>(std::move(options));
    sync_ = std::make_unique<SyncRedis>(*redis_);
  }
  void SetUp() override {
    if (!redis_) start_redis();
  }

  DaemonOptions options(const std::string& instance, const std::string& queue_yaml = {},
                        const std::string& extra_yaml = {}) {
    DaemonOptions o;
    o.redis_url = redis_->url();
    o.provider_endpoint = sim_->endpoint();
    o.fcm_service_account = sim_->service_account_file();
    o.consume = true;
    o.instance_id = instance;
    o.queue_yaml = queue_yaml;
    o.extra_yaml = extra_yaml;
    return o;
  }

  std::int64_t unique() { return sim_->stats().at("unique").get<std::int64_t>(); }
  std::int64_t duplicates() { return sim_->stats().at("duplicates").get<std::int64_t>(); }

  // Waits for `n` unique deliveries, then for every queue key to be gone (acked, nothing left).
  void expect_all_delivered_and_lists_empty(std::int64_t n, Daemon& daemon) {
    ASSERT_TRUE(eventually([&] { return unique() >= n; })) << "delivered " << unique() << " of " << n << "\n"
                                                            << daemon.log();
    ASSERT_TRUE(eventually([&] { return queue_keys(*sync_).empty(); }, 30s))
        << "left in Redis: " << json(queue_keys(*sync_)).dump() << "\n" << daemon.log();
    EXPECT_EQ(unique(), n);
  }

  std::unique_ptr<RedisServer> redis_;
  std::unique_ptr<SyncRedis> sync_;
  std::unique_ptr<SimProcess> sim_ = std::make_unique<SimProcess>();
};

TEST_F(PipelineTest, HundredThousandQueuedNotificationsAreDeliveredExactlyOnce) {
  lpush(*sync_, queue_key("default"), mixed_jobs(100000));
  Daemon daemon(options("exact"));
  expect_all_delivered_and_lists_empty(100000, daemon);
  EXPECT_EQ(duplicates(), 0);
  EXPECT_EQ(sim_->stats().at("by_status").value("200", 0), 100000);
}

TEST_F(PipelineTest, KilledInstanceJobsAreDeliveredByAnotherWithBoundedDuplicates) {
  sim_->configure({{"latency_ms", 2}});
  const std::size_t total = 30000;
  lpush(*sync_, queue_key("default"), mixed_jobs(total));
  const std::string fast_reaper = "  heartbeat_interval: 200ms\n  heartbeat_ttl: 1s\n  reaper_interval: 300ms\n";
  auto first = std::make_unique<Daemon>(options("doomed", fast_reaper));
  ASSERT_TRUE(eventually([&] { return unique() > 3000; })) << first->log();
  first->process().kill();  // kill -9: no drain, no sign-off

  // What it held when it died is what may be sent twice.
  std::size_t held_tokens = 0;
  for (const char* lane : kLanes) held_tokens += tokens_in(sync_->lrange(processing_key(lane, "doomed")));
  Daemon second(options("survivor", fast_reaper));
  expect_all_delivered_and_lists_empty(total, second);
  const auto dups = duplicates();
  std::printf("[ measure  ] kill -9 mid-run: %lld duplicate deliveries; the killed instance held %zu tokens\n",
              static_cast<long long>(dups), held_tokens);
  RecordProperty("duplicates", static_cast<int>(dups));
  RecordProperty("held_tokens", static_cast<int>(held_tokens));
  EXPECT_LE(dups, static_cast<std::int64_t>(held_tokens));
  EXPECT_FALSE(sync_->get("pushgw:instance:doomed"));
  EXPECT_NE(second.log().find("stopped heartbeating"), std::string::npos) << second.log();
}

TEST_F(PipelineTest, RedisRestartMidRunLosesNothingAndTheDaemonRecoversByItself) {
  // Persistence on, as in production: a restarted Redis keeps its lists.
  RedisServerOptions persistent;
  persistent.extra_args = {"--appendonly", "yes", "--appendfsync", "always"};
  start_redis(persistent);
  sim_->configure({{"latency_ms", 2}});
  const std::size_t total = 20000;
  lpush(*sync_, queue_key("default"), mixed_jobs(total));
  Daemon daemon(options("restart"));
  ASSERT_TRUE(eventually([&] { return unique() > 2000; })) << daemon.log();
  sync_.reset();
  redis_->stop();
  std::this_thread::sleep_for(1s);
  redis_->start();
  sync_ = std::make_unique<SyncRedis>(*redis_);
  expect_all_delivered_and_lists_empty(total, daemon);
  std::printf("[ measure  ] Redis restart mid-run: %lld duplicate deliveries\n", static_cast<long long>(duplicates()));
  // The front door's own Redis connection may reconnect a little after the workers' did.
  EXPECT_TRUE(eventually([&] { return get(daemon.port(), "/readyz").status == 200; }, 30s))
      << get(daemon.port(), "/readyz").body << "\n" << daemon.log();
}

TEST_F(PipelineTest, TransientFailuresAreRetriedWithBackoffUntilDelivered) {
  sim_->configure({{"force_status", 503}});
  std::vector<std::string> jobs;
  for (std::size_t i = 0; i < 20; ++i) jobs.push_back(job(i, 1));
  lpush(*sync_, queue_key("default"), jobs);
  Daemon daemon(options("retry", "  poll_interval: 50ms\n",
                        "retries: {max_attempts: 20, backoff_min: 200ms, backoff_max: 2s}\n"));

  // Backoff doubles from 200 ms (±25%): sends at about 0, 0.2, 0.6, 1.4, 3.0 s (plus up to a
  // poll interval each). Within 2.5 s each token is tried 3 to 5 times: not hundreds (no
  // backoff) and not once (no retry).
  ASSERT_TRUE(eventually([&] { return sync_->zcard(retry_key("default")) == 20; }, 30s)) << daemon.log();
  const auto first_seen = Clock::now();
  std::this_thread::sleep_for(2500ms);
  const auto elapsed = std::chrono::duration<double>(Clock::now() - first_seen).count();
  const auto received = sim_->stats().at("received").get<std::int64_t>();
  EXPECT_GE(received, 20 * 3) << "elapsed " << elapsed;
  EXPECT_LE(received, 20 * 5) << "elapsed " << elapsed;
  // Each retry is scheduled no further out than backoff_max (+25% jitter).
  auto members = sync_->command({"ZRANGE", retry_key("default"), "0", "-1", "WITHSCORES"});
  const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch()).count();
  ASSERT_GT(members->elements, 0u);
  for (std::size_t i = 0; i < members->elements; i += 2) {
    const auto n = json::parse(members->element[i]->str);
    EXPECT_GE(n.at("job").at("attempt").get<int>(), 2);
    EXPECT_LE(std::stoll(members->element[i + 1]->str) - now_ms, 2500);
  }

  sim_->configure({{"force_status", nullptr}});
  expect_all_delivered_and_lists_empty(20, daemon);
  EXPECT_EQ(duplicates(), 0);
}

TEST_F(PipelineTest, PermanentFailureEndsInTheDeadLetterListAfterTheConfiguredAttempts) {
  sim_->configure({{"force_status", 503}});
  std::vector<std::string> jobs;
  for (std::size_t i = 0; i < 5; ++i) jobs.push_back(job(i, 1));
  lpush(*sync_, queue_key("default"), jobs);
  Daemon daemon(options("permanent", {}, "retries: {max_attempts: 3, backoff_min: 100ms, backoff_max: 200ms}\n"));
  ASSERT_TRUE(eventually([&] { return sync_->llen(dead_key("default")) == 5; }, 60s)) << daemon.log();
  for (const auto& text : sync_->lrange(dead_key("default"))) {
    const auto entry = json::parse(text);
    EXPECT_EQ(entry.at("reason"), "retries_exhausted");
    EXPECT_NE(entry.at("error").get<std::string>().find("after 3 attempt(s)"), std::string::npos) << text;
    EXPECT_NE(entry.at("error").get<std::string>().find("503"), std::string::npos) << text;
    EXPECT_EQ(entry.at("job").at("tokens").size(), 1u);
    EXPECT_EQ(entry.at("lane"), "default");
  }
  EXPECT_EQ(sim_->stats().at("received").get<std::int64_t>(), 15);  // exactly 3 attempts each
  EXPECT_EQ(sync_->zcard(retry_key("default")), 0);
  const auto metrics = get(daemon.port(), "/metrics").body;
  EXPECT_NE(metrics.find("pushgw_dead_letters_total{lane=\"default\",reason=\"retries_exhausted\"} 5"), std::string::npos)
      << metrics;
}

TEST_F(PipelineTest, MalformedElementIsDeadLetteredWhileTheJobsAroundItAreDelivered) {
  lpush(*sync_, queue_key("default"),
        {job(1, 1), "{\"platform\": \"ios\", \"tokens\": [", job(2, 1),
         R"({"platform":"ios","tokens":["not-a-token"],"title":"x"})", R"({"platform":"ios","tokens":["a"],"titel":"x"})",
         job(3, 1)});
  Daemon daemon(options("malformed"));
  ASSERT_TRUE(eventually([&] { return unique() == 3 && sync_->llen(dead_key("default")) == 3; }, 60s)) << daemon.log();
  // Workers run concurrently: find each entry by what it is about, not by position.
  std::map<std::string, json> by_kind;
  for (const auto& text : sync_->lrange(dead_key("default"))) {
    const auto entry = json::parse(text);
    const std::string error = entry.at("error");
    by_kind[entry.contains("raw") ? "syntax" : error.find("titel") != std::string::npos ? "field" : "token"] = entry;
  }
  ASSERT_EQ(by_kind.size(), 3u);
  EXPECT_EQ(by_kind["syntax"].at("reason"), "malformed");
  EXPECT_EQ(by_kind["syntax"].at("raw"), "{\"platform\": \"ios\", \"tokens\": [");
  EXPECT_NE(by_kind["syntax"].at("error").get<std::string>().find("invalid JSON"), std::string::npos) << by_kind["syntax"];
  EXPECT_EQ(by_kind["field"].at("reason"), "malformed");
  EXPECT_NE(by_kind["field"].at("error").get<std::string>().find("unknown field"), std::string::npos) << by_kind["field"];
  EXPECT_EQ(by_kind["token"].at("reason"), "invalid");
  EXPECT_NE(by_kind["token"].at("error").get<std::string>().find("tokens[0]"), std::string::npos) << by_kind["token"];
  EXPECT_EQ(by_kind["token"].at("job").at("tokens").at(0), "not-a-token");
  EXPECT_TRUE(eventually([&] { return sync_->llen(processing_key("default", "malformed")) == 0; }, 10s));
  EXPECT_EQ(get(daemon.port(), "/healthz").status, 200);  // no crash
}

TEST_F(PipelineTest, HighLaneJobIsDeliveredBeforeABulkBacklogDrains) {
  sim_->configure({{"latency_ms", 1}});
  lpush(*sync_, queue_key("bulk"), mixed_jobs(200000));
  Daemon daemon(options("lanes"));
  ASSERT_TRUE(eventually([&] { return unique() > 5000; })) << daemon.log();
  const auto pushed = Clock::now();
  lpush(*sync_, queue_key("high"), {job(900000, 1)});
  ASSERT_TRUE(eventually([&] {
    return sync_->llen(queue_key("high")) == 0 && sync_->llen(processing_key("high", "lanes")) == 0;
  }, 60s)) << daemon.log();
  const auto latency = std::chrono::duration<double, std::milli>(Clock::now() - pushed).count();
  const auto bulk_left = sync_->llen(queue_key("bulk"));
  std::printf("[ measure  ] high-lane job behind a bulk backlog: delivered in %.1f ms (polling every 50 ms); "
              "%lld bulk jobs still queued\n", latency, static_cast<long long>(bulk_left));
  RecordProperty("high_lane_latency_ms", static_cast<int>(latency));
  EXPECT_GT(bulk_left, 0) << "the bulk backlog drained first";
  EXPECT_LT(unique(), 200001);
  expect_all_delivered_and_lists_empty(200001, daemon);
}

TEST_F(PipelineTest, SigtermMidRunExitsInTimeAndPutsUnfinishedJobsBack) {
  sim_->configure({{"latency_ms", 20}});
  const std::size_t total = 20000;
  lpush(*sync_, queue_key("default"), mixed_jobs(total));
  auto first = std::make_unique<Daemon>(options("draining"));
  ASSERT_TRUE(eventually([&] { return unique() > 1000; })) << first->log();
  const auto signalled = Clock::now();
  ASSERT_EQ(::kill(first->process().pid(), SIGTERM), 0);
  const auto code = first->process().wait_exit(30s);
  const auto took = std::chrono::duration<double>(Clock::now() - signalled).count();
  ASSERT_TRUE(code.has_value()) << first->log();
  EXPECT_EQ(*code, 0) << first->log();
  EXPECT_LT(took, 5.0 + 3.0) << "shutdown_timeout is 5 s";  // deadline + block_timeout + margin
  for (const char* lane : kLanes) EXPECT_EQ(sync_->llen(processing_key(lane, "draining")), 0) << lane;
  EXPECT_FALSE(sync_->get("pushgw:instance:draining"));
  EXPECT_EQ(sync_->command({"SISMEMBER", "pushgw:instances", "draining"})->integer, 0);

  sim_->configure({{"latency_ms", 0}});
  Daemon second(options("after-drain"));
  expect_all_delivered_and_lists_empty(total, second);
  std::printf("[ measure  ] SIGTERM mid-run: exited in %.2f s; %lld duplicate deliveries\n", took,
              static_cast<long long>(duplicates()));
}

TEST_F(PipelineTest, DroppedConnectionsMidBurstRetryTheirInFlightRequests) {
  sim_->configure({{"drop_after", 300}});
  lpush(*sync_, queue_key("default"), mixed_jobs(3000));
  Daemon daemon(options("dropped", {}, "retries: {backoff_min: 100ms, backoff_max: 500ms}\n"));
  ASSERT_TRUE(eventually([&] { return sim_->stats().at("connections_dropped").get<int>() >= 2; }, 60s)) << daemon.log();
  sim_->configure({{"drop_after", 0}});
  expect_all_delivered_and_lists_empty(3000, daemon);
  EXPECT_TRUE(sync_->lrange(dead_key("default")).empty());
}

TEST_F(PipelineTest, NotificationIdIsSentOncePerIdempotencyWindow) {
  const std::string once = job(1, 1, R"("id":"order-1")");
  lpush(*sync_, queue_key("default"), {once, once, job(2, 1, R"("id":"order-1")"), job(3, 1, R"("id":"order-2")")});
  Daemon daemon(options("idempotent"));
  ASSERT_TRUE(eventually([&] { return queue_keys(*sync_).empty() && unique() == 2; }, 30s)) << daemon.log();
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(sim_->stats().at("received").get<std::int64_t>(), 2);
  EXPECT_TRUE(sync_->get("pushgw:idempotency:demo:order-1").has_value());
  const auto metrics = get(daemon.port(), "/metrics").body;
  EXPECT_NE(metrics.find("pushgw_jobs_total{outcome=\"duplicate\"} 2"), std::string::npos) << metrics;
}

TEST_F(PipelineTest, DeadTokensAreMarkedInactiveReportedAndNeverSentAgain) {
  const std::string dead_token = token(7, "0410");
  const std::string send_to_dead = R"({"platform":"ios","tokens":[")" + dead_token + R"("],"title":"x"})";
  lpush(*sync_, queue_key("default"), {send_to_dead});
  Daemon daemon(options("feedback"));
  ASSERT_TRUE(eventually([&] { return sync_->llen("pushgw:feedback") == 1; }, 30s)) << daemon.log();
  const auto event = json::parse(sync_->lrange("pushgw:feedback").at(0));
  EXPECT_EQ(event.at("token"), dead_token);
  EXPECT_EQ(event.at("reason"), "Unregistered");
  EXPECT_EQ(event.at("app"), "demo");
  EXPECT_EQ(event.at("platform"), "ios");
  EXPECT_TRUE(event.contains("invalid_since"));
  auto marked = sync_->command({"HGET", "pushgw:inactive:demo:ios", dead_token});
  ASSERT_EQ(marked->type, REDIS_REPLY_STRING);
  EXPECT_EQ(json::parse(marked->str).at("reason"), "Unregistered");

  const auto received = sim_->stats().at("received").get<std::int64_t>();
  lpush(*sync_, queue_key("default"), {send_to_dead, job(1, 1)});
  ASSERT_TRUE(eventually([&] { return unique() == 1 && queue_keys(*sync_).empty(); }, 30s)) << daemon.log();
  EXPECT_EQ(sim_->stats().at("received").get<std::int64_t>(), received + 1);  // only the live token
  const auto metrics = get(daemon.port(), "/metrics").body;
  EXPECT_NE(metrics.find("pushgw_tokens_skipped_inactive_total{platform=\"ios\"} 1"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("pushgw_tokens_marked_inactive_total{platform=\"ios\",reason=\"Unregistered\"} 1"),
            std::string::npos) << metrics;
}

TEST_F(PipelineTest, SendAtAndPostedJobsGoThroughTheSamePath) {
  Daemon daemon(options("scheduled"));
  const auto now_s = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch()).count();
  json body = {{"notifications", {{{"platform", "ios"}, {"tokens", {token(1)}}, {"title", "later"},
                                   {"send_at", now_s + 2}},
                                  {{"platform", "ios"}, {"tokens", {token(2)}}, {"title", "now"}, {"lane", "high"}}}}};
  ASSERT_EQ(post_json(daemon.port(), "/push", body.dump()).status, 202);
  ASSERT_TRUE(eventually([&] { return unique() == 1; }, 30s)) << daemon.log();
  EXPECT_EQ(sync_->zcard(retry_key("default")), 1);  // still waiting for its time
  ASSERT_TRUE(eventually([&] { return unique() == 2; }, 30s)) << daemon.log();
  EXPECT_GE(std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count(),
            now_s + 2);
  EXPECT_TRUE(eventually([&] { return queue_keys(*sync_).empty(); }, 10s));
}

TEST_F(PipelineTest, AndroidNotificationsGoThroughFcmWithTheSameOutcomes) {
  const std::string android = R"({"platform":"android","tokens":["fcm-token-1","fcm-token-2","unregistered-x"],)"
                              R"("title":"hi","data":{"k":1}})";
  lpush(*sync_, queue_key("default"), {android});
  Daemon daemon(options("android"));
  ASSERT_TRUE(eventually([&] { return unique() == 2 && queue_keys(*sync_).empty(); }, 30s)) << daemon.log();
  auto marked = sync_->command({"HGET", "pushgw:inactive:demo:android", "unregistered-x"});
  ASSERT_EQ(marked->type, REDIS_REPLY_STRING) << daemon.log();
  EXPECT_EQ(json::parse(marked->str).at("reason"), "UNREGISTERED");
  EXPECT_EQ(json::parse(get(daemon.port(), "/readyz").body).at("checks").at("fcm:demo"), "ok");
}

TEST_F(PipelineTest, ReadyzAndMetricsShowProviderHealth) {
  Daemon daemon(options("health"));
  auto ready = get(daemon.port(), "/readyz");
  EXPECT_EQ(ready.status, 200) << ready.body;
  EXPECT_EQ(json::parse(ready.body).at("checks").at("apns:demo"), "ok");
  // The simulator starts refusing our provider token: every send is a credentials error.
  sim_->configure({{"force_status", 403}, {"force_reason", "InvalidProviderToken"}});
  lpush(*sync_, queue_key("default"), {job(1, 1)});
  ASSERT_TRUE(eventually([&] { return get(daemon.port(), "/readyz").status == 503; }, 30s)) << daemon.log();
  ready = get(daemon.port(), "/readyz");
  EXPECT_NE(json::parse(ready.body).at("checks").at("apns:demo").get<std::string>().find("InvalidProviderToken"),
            std::string::npos) << ready.body;
  const auto metrics = get(daemon.port(), "/metrics").body;
  EXPECT_NE(metrics.find("pushgw_provider_healthy{app=\"demo\",platform=\"ios\"} 0"), std::string::npos) << metrics;
  // Not the notification's fault: it waits for the credentials to be fixed, not dead-lettered.
  EXPECT_EQ(sync_->zcard(retry_key("default")), 1);
  EXPECT_EQ(sync_->llen(dead_key("default")), 0);
}

}  // namespace
}  // namespace pushgw::test
