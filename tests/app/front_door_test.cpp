// End to end: the pushgw binary with a real redis-server, driven over real HTTP.

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <set>
#include <sstream>

#include "app/daemon.hpp"
#include "pushgw/job/codec.hpp"
#include "support/eventually.hpp"
#include "support/http_client.hpp"
#include "support/redis_server.hpp"

namespace pushgw::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

const std::string kIosToken1(64, 'a');
const std::string kIosToken2 = std::string(63, 'b') + "1";
const std::string kIosToken3 = std::string(62, 'c') + "22";

std::string ios_token(int i) {
  std::string hex = std::to_string(i);
  return std::string(64 - hex.size(), 'e') + hex;
}

class FrontDoorTest : public ::testing::Test {
 protected:
  void start(DaemonOptions options = {}) {
    options.redis_url = redis_.url();
    daemon_ = std::make_unique<Daemon>(std::move(options));
  }
  std::uint16_t port() const { return daemon_->port(); }

  // Everything stored under the pushgw prefix.
  long long stored_keys() { return redis_sync().command({"DBSIZE"})->integer; }
  SyncRedis& redis_sync() {
    if (!sync_) sync_ = std::make_unique<SyncRedis>(redis_);
    return *sync_;
  }

  RedisServer redis_;
  std::unique_ptr<SyncRedis> sync_;
  std::unique_ptr<Daemon> daemon_;
};

// Decodes each stored job of a list (oldest first: producers LPUSH, consumers pop the right end).
std::vector<job::Notification> decode_list(SyncRedis& redis, const std::string& key) {
  std::vector<job::Notification> jobs;
  auto elements = redis.lrange(key, 0, -1);
  for (auto it = elements.rbegin(); it != elements.rend(); ++it) {
    auto decoded = job::decode_job_string(*it);
    EXPECT_TRUE(std::holds_alternative<std::vector<job::Notification>>(decoded)) << *it;
    if (auto* list = std::get_if<std::vector<job::Notification>>(&decoded)) {
      for (auto& n : *list) jobs.push_back(std::move(n));
    }
  }
  return jobs;
}

TEST_F(FrontDoorTest, ValidRequestIsStoredAsJobsThatDecodeBackToTheSameNotifications) {
  start({.limits_yaml = "  job_split_size: 2\n"});
  const json ios = {{"platform", "ios"},
                    {"tokens", {kIosToken1, kIosToken2, kIosToken3}},
                    {"title", "Hello"},
                    {"message", "World \"quoted\" ✓"},
                    {"badge", 3},
                    {"sound", "default"},
                    {"data", {{"order", 42}, {"nested", {{"a", {1, 2}}}}}},
                    {"priority", "high"},
                    {"collapse_id", "c1"},
                    {"id", "order-42"}};
  const json android = {{"platform", "android"}, {"app", "demo"}, {"tokens", {"fcm-token-1:APA91b"}}, {"title", "Hi"}};
  auto response = post_json(port(), "/push", json{{"notifications", {ios, android}}}.dump());
  ASSERT_EQ(response.status, 202) << response.body << daemon_->log();

  const json body = json::parse(response.body);
  EXPECT_EQ(body["accepted"], (json{{"notifications", 2}, {"tokens", 4}, {"jobs", 3}}));
  ASSERT_EQ(body["job_ids"].size(), 3u);

  const auto jobs = decode_list(redis_sync(), "pushgw:{default}:queue");
  ASSERT_EQ(jobs.size(), 3u);
  std::set<std::string> ids;
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    ASSERT_TRUE(jobs[i].job.has_value());
    EXPECT_EQ(jobs[i].job->id, body["job_ids"][i].get<std::string>());
    EXPECT_GT(jobs[i].job->enqueued_ms, 0);
    EXPECT_EQ(jobs[i].job->attempt, 0);
    ids.insert(jobs[i].job->id);
  }
  EXPECT_EQ(ids.size(), 3u);

  // The two iOS jobs together are the request's notification: same fields, same tokens in order.
  auto expected_ios = std::get<job::Notification>(job::decode_notification(ios, ""));
  expected_ios.app = "demo";
  job::Notification joined = jobs[0];
  joined.tokens.insert(joined.tokens.end(), jobs[1].tokens.begin(), jobs[1].tokens.end());
  EXPECT_EQ(jobs[0].tokens.size(), 2u);
  EXPECT_EQ(jobs[1].tokens.size(), 1u);
  joined.job.reset();
  joined.id = expected_ios.id;  // split jobs carry "<id>#<n>" so each is idempotent alone
  EXPECT_EQ(jobs[0].id, "order-42#0");
  EXPECT_EQ(jobs[1].id, "order-42#1");
  EXPECT_EQ(joined, expected_ios);

  auto expected_android = std::get<job::Notification>(job::decode_notification(android, ""));
  job::Notification android_job = jobs[2];
  android_job.job.reset();
  EXPECT_EQ(android_job, expected_android);
}

TEST_F(FrontDoorTest, LanesAndSendAtChooseTheKey) {
  start();
  const auto now_s = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  const json request = {{"notifications",
                         {{{"platform", "ios"}, {"tokens", {kIosToken1}}, {"lane", "high"}, {"title", "now"}},
                          {{"platform", "ios"}, {"tokens", {kIosToken2}}, {"lane", "bulk"}, {"title", "later"}, {"send_at", now_s + 3600}},
                          {{"platform", "ios"}, {"tokens", {kIosToken3}}, {"title", "default lane"}}}}};
  auto response = post_json(port(), "/push", request.dump());
  ASSERT_EQ(response.status, 202) << response.body;

  EXPECT_EQ(redis_sync().llen("pushgw:{high}:queue"), 1);
  EXPECT_EQ(redis_sync().llen("pushgw:{default}:queue"), 1);
  EXPECT_EQ(redis_sync().llen("pushgw:{bulk}:queue"), 0);
  EXPECT_EQ(redis_sync().zcard("pushgw:{bulk}:retry"), 1);
  auto scheduled = redis_sync().command({"ZRANGE", "pushgw:{bulk}:retry", "0", "-1", "WITHSCORES"});
  ASSERT_EQ(scheduled->elements, 2u);
  EXPECT_EQ(std::string(scheduled->element[1]->str), std::to_string((now_s + 3600) * 1000));
}

TEST_F(FrontDoorTest, OverMaxQueueDepthALaneRefusesWith429AndStoresNothing) {
  start({.limits_yaml = "  max_queue_depth: 3\n"});
  for (int i = 0; i < 4; ++i) redis_sync().command({"LPUSH", "pushgw:{default}:queue", "{\"waiting\": true}"});
  const json to_default = {{"notifications", {{{"platform", "ios"}, {"tokens", {kIosToken1}}, {"title", "t"}}}}};
  auto refused = post_json(port(), "/push", to_default.dump());
  EXPECT_EQ(refused.status, 429) << refused.body;
  EXPECT_EQ(refused.headers["retry-after"], "1");
  EXPECT_NE(refused.body.find("max_queue_depth"), std::string::npos) << refused.body;
  EXPECT_EQ(json::parse(refused.body).at("stored"), false);
  EXPECT_EQ(redis_sync().llen("pushgw:{default}:queue"), 4);  // nothing stored
  // gorush's route too, in its shape.
  const json gorush = {{"notifications", {{{"platform", 1}, {"tokens", {kIosToken1}}, {"message", "m"}}}}};
  EXPECT_EQ(post_json(port(), "/api/push", gorush.dump()).status, 429);

  // Another lane is not held back.
  const json to_high = {{"notifications", {{{"platform", "ios"}, {"tokens", {kIosToken2}}, {"lane", "high"}, {"title", "t"}}}}};
  EXPECT_EQ(post_json(port(), "/push", to_high.dump()).status, 202);
  // Once the lane drains to the limit, requests are stored again (the depth is re-read within a
  // quarter second).
  redis_sync().command({"RPOP", "pushgw:{default}:queue"});
  EXPECT_TRUE(eventually([&] { return post_json(port(), "/push", to_default.dump()).status == 202; }, 10s));
  EXPECT_EQ(redis_sync().llen("pushgw:{default}:queue"), 4);
  EXPECT_NE(get(port(), "/metrics").body.find("pushgw_jobs_total{outcome=\"refused\"}"), std::string::npos);
}

TEST_F(FrontDoorTest, WithoutMaxQueueDepthThereIsNoLimit) {
  start();
  for (int i = 0; i < 50; ++i) redis_sync().command({"LPUSH", "pushgw:{default}:queue", "{}"});
  const json request = {{"notifications", {{{"platform", "ios"}, {"tokens", {kIosToken1}}, {"title", "t"}}}}};
  EXPECT_EQ(post_json(port(), "/push", request.dump()).status, 202);
}

struct BadRequest {
  std::string name;
  std::string content_type;
  std::string body;
  int status;
  std::string path;        // expected "path" in the answer ("" = absent)
  std::string message;     // substring of "error"
};

TEST_F(FrontDoorTest, EachClassOfBadRequestGetsItsStatusAndAPreciseMessageAndStoresNothing) {
  start({.limits_yaml = "  max_body_bytes: 8KiB\n  max_notifications_per_request: 3\n"});
  const std::string valid = R"({"platform":"ios","tokens":[")" + kIosToken1 + R"("],"title":"ok"})";
  const std::vector<BadRequest> cases = {
      {"not json", "application/json", "{nope", 400, "", "JSON"},
      {"no notifications", "application/json", "{}", 400, "notifications", "required"},
      {"empty notifications", "application/json", R"({"notifications":[]})", 400, "notifications", ""},
      {"too many notifications", "application/json",
       "{\"notifications\":[" + valid + "," + valid + "," + valid + "," + valid + "]}", 400, "notifications", "3"},
      {"missing platform", "application/json", R"({"notifications":[{"tokens":["x"]}]})", 400, "notifications[0].platform", ""},
      {"bad platform", "application/json", R"({"notifications":[{"platform":"windows","tokens":["x"]}]})", 400, "notifications[0].platform", "ios"},
      {"bad ios token in the second notification", "application/json",
       "{\"notifications\":[" + valid + R"(,{"platform":"ios","tokens":[")" + kIosToken2 + R"(","xyz"]}]})", 400,
       "notifications[1].tokens[1]", "hex"},
      {"unknown field", "application/json", R"({"notifications":[{"platform":"ios","tokens":[")" + kIosToken1 + R"("],"titel":"x"}]})",
       400, "notifications[0].titel", "title"},
      {"wrong type", "application/json", R"({"notifications":[{"platform":"ios","tokens":[")" + kIosToken1 + R"("],"badge":"3"}]})",
       400, "notifications[0].badge", ""},
      {"unknown app", "application/json", R"({"notifications":[{"platform":"ios","app":"other","tokens":[")" + kIosToken1 + R"("]}]})",
       400, "notifications[0].app", "other"},
      {"APNs payload too large", "application/json",
       R"({"notifications":[{"platform":"ios","tokens":[")" + kIosToken1 + R"("],"message":")" + std::string(4100, 'm') + R"("}]})",
       400, "notifications[0]", "4096"},
      {"not JSON content type", "text/plain", "{\"notifications\":[" + valid + "]}", 415, "", "application/json"},
      {"body too large", "application/json", "{\"notifications\":[" + valid + "]," + std::string(9000, ' ') + "}", 413, "", "limit"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto response = http_request(port(), HttpRequest{"POST", "/push", {{"Content-Type", c.content_type}}, c.body});
    ASSERT_EQ(response.status, c.status) << response.body << response.error;
    const json body = json::parse(response.body);
    ASSERT_TRUE(body.contains("error")) << response.body;
    EXPECT_NE(body["error"].get<std::string>().find(c.message), std::string::npos) << response.body;
    if (c.path.empty()) {
      EXPECT_FALSE(body.contains("path")) << response.body;
    } else {
      EXPECT_EQ(body.value("path", ""), c.path) << response.body;
    }
    EXPECT_EQ(stored_keys(), 0) << "a rejected request stored something";
  }
}

// Issue 13, classes 2, 8 and 9: input that nlohmann throws on (a raw 0xFF, numbers beyond
// double) is a 400 with a path-free, short message, never a 500; a huge unknown key is quoted
// short in the answer; an FCM payload over 4 KB is refused at intake; log lines stay bounded.
TEST_F(FrontDoorTest, HostileBodiesGet400WithShortMessagesAndShortLogLines) {
  start({.limits_yaml = "  max_body_bytes: 2MiB\n"});
  const std::string head = R"({"notifications":[{"platform":"ios","tokens":[")" + kIosToken1 + R"("],)";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"raw 0xFF in a title", head + R"("title":"a)" + std::string("\xff") + R"("}]})"},
      {"number overflow", head + R"("badge":1e400}]})"},
      {"100k-digit number", head + R"("badge":)" + std::string(100000, '9') + R"(e99999}]})"},
      {"900 KB unknown key", head + R"(")" + std::string(900 * 1024, 'k') + R"(":1}]})"},
      {"NUL byte after the JSON", R"({"notifications":[{"platform":"ios","tokens":[")" + kIosToken1 + R"("]}]})" +
                                      std::string(1, '\0') + "garbage"},
      {"900 KB Android title", R"({"notifications":[{"platform":"android","tokens":["fcm-1"],"title":")" +
                                   std::string(900 * 1024, 't') + R"("}]})"},
  };
  for (const auto& [name, body] : cases) {
    SCOPED_TRACE(name);
    auto response = post_json(port(), "/push", body);
    ASSERT_EQ(response.status, 400) << response.body.substr(0, 500) << response.error;
    EXPECT_LT(response.body.size(), 500u) << response.body.substr(0, 500);
    EXPECT_TRUE(json::accept(response.body)) << response.body.substr(0, 300);
  }
  EXPECT_EQ(stored_keys(), 0);
  // No log line grows with the input.
  std::istringstream log(daemon_->log());
  for (std::string line; std::getline(log, line);) EXPECT_LT(line.size(), 2000u) << line.substr(0, 300);
}

TEST_F(FrontDoorTest, RoutingAndHeaderLimitErrors) {
  start({.limits_yaml = "  max_header_bytes: 2KiB\n"});
  EXPECT_EQ(get(port(), "/nope").status, 404);
  auto wrong_method = get(port(), "/push");
  EXPECT_EQ(wrong_method.status, 405);
  EXPECT_EQ(wrong_method.headers["allow"], "POST");
  auto big_headers = http_request(port(), HttpRequest{"GET", "/healthz", {{"X-Filler", std::string(4096, 'x')}}, ""});
  EXPECT_EQ(big_headers.status, 431) << big_headers.error;
  auto garbage = raw_request(port(), "NOT HTTP AT ALL\r\n\r\n");
  EXPECT_EQ(garbage.status, 400) << garbage.error;
  EXPECT_EQ(get(port(), "/healthz").status, 200);
}

TEST_F(FrontDoorTest, ApiKeysAreEnforcedOnPushRoutesOnly) {
  start({.api_keys = {"key-one", "key-two"}});
  const std::string body = R"({"notifications":[{"platform":"ios","tokens":[")" + kIosToken1 + R"("]}]})";

  auto missing = post_json(port(), "/push", body);
  EXPECT_EQ(missing.status, 401);
  EXPECT_NE(missing.body.find("missing API key"), std::string::npos);
  EXPECT_EQ(missing.headers["www-authenticate"], "Bearer");
  EXPECT_EQ(post_json(port(), "/push", body, {{"Authorization", "Bearer key-three"}}).status, 401);
  EXPECT_EQ(post_json(port(), "/push", body, {{"Authorization", "Bearer key-on"}}).status, 401);
  EXPECT_EQ(post_json(port(), "/api/push", body, {{"X-API-Key", "nope"}}).status, 401);
  EXPECT_EQ(stored_keys(), 0);

  EXPECT_EQ(post_json(port(), "/push", body, {{"Authorization", "Bearer key-two"}}).status, 202);
  EXPECT_EQ(post_json(port(), "/push", body, {{"X-API-Key", "key-one"}}).status, 202);
  EXPECT_EQ(redis_sync().llen("pushgw:{default}:queue"), 2);

  EXPECT_EQ(get(port(), "/healthz").status, 200);
  EXPECT_EQ(get(port(), "/metrics").status, 200);
}

TEST_F(FrontDoorTest, RedisDownGives503AndNotReadyThenBothRecoverWithoutARestart) {
  start();
  const std::string body = R"({"notifications":[{"platform":"ios","tokens":[")" + kIosToken1 + R"("]}]})";
  ASSERT_EQ(post_json(port(), "/push", body).status, 202);
  ASSERT_EQ(get(port(), "/readyz").status, 200);

  redis_.stop();
  auto refused = post_json(port(), "/push", body);
  EXPECT_EQ(refused.status, 503) << refused.body;
  EXPECT_NE(refused.body.find("not stored"), std::string::npos) << refused.body;
  auto not_ready = get(port(), "/readyz");
  EXPECT_EQ(not_ready.status, 503);
  EXPECT_EQ(json::parse(not_ready.body)["status"], "not ready");
  EXPECT_EQ(get(port(), "/healthz").status, 200);

  redis_.start();  // same port, empty data set
  sync_.reset();
  EXPECT_TRUE(eventually([&] { return get(port(), "/readyz").status == 200; })) << daemon_->log();
  EXPECT_TRUE(eventually([&] { return post_json(port(), "/push", body).status == 202; }));
  EXPECT_EQ(redis_sync().llen("pushgw:{default}:queue"), 1);
  EXPECT_EQ(daemon_->process().pid() > 0, true);
}

TEST_F(FrontDoorTest, GorushRequestsAreAcceptedInGorushShapes) {
  start();
  const json request = {{"notifications",
                         {{{"tokens", {kIosToken1, kIosToken2}}, {"platform", 1}, {"message", "Hello"}, {"title", "T"}},
                          {{"tokens", {"fcm-token:1"}}, {"platform", 2}, {"message", "Hi"}}}}};
  auto response = post_json(port(), "/api/push", request.dump());
  ASSERT_EQ(response.status, 200) << response.body;
  const json body = json::parse(response.body);
  EXPECT_EQ(body["success"], "ok");
  EXPECT_EQ(body["counts"], 3);
  const auto jobs = decode_list(redis_sync(), "pushgw:{default}:queue");
  ASSERT_EQ(jobs.size(), 2u);
  EXPECT_EQ(jobs[0].platform, job::Platform::ios);
  EXPECT_EQ(jobs[0].message, "Hello");
  EXPECT_EQ(jobs[1].platform, job::Platform::android);
}

TEST_F(FrontDoorTest, ManyConcurrentClientsAllGetTheirJobsStored) {
  start();
  constexpr int kClients = 8, kRequestsEach = 25;
  std::vector<std::thread> clients;
  std::atomic<int> accepted{0};
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      for (int r = 0; r < kRequestsEach; ++r) {
        const json body = {{"notifications", {{{"platform", "ios"}, {"tokens", {ios_token(c * 1000 + r)}}}}}};
        if (post_json(port(), "/push", body.dump()).status == 202) ++accepted;
      }
    });
  }
  for (auto& t : clients) t.join();
  EXPECT_EQ(accepted.load(), kClients * kRequestsEach);
  EXPECT_EQ(redis_sync().llen("pushgw:{default}:queue"), kClients * kRequestsEach);
}

}  // namespace
}  // namespace pushgw::test
