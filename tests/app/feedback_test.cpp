// Feedback end to end (issue 16): the real pushgw binary, a real redis-server, pushgw-sim
// answering 410 Unregistered for tokens that start with 0410, and a webhook receiver in the test
// (pushgw's own HTTP server on a thread of its own). Dead tokens are marked and reported to the
// webhook once each, signed; later sends skip them; the token API reads and clears a mark; an
// expired mark no longer counts; an unreachable webhook and a sender killed mid-batch lose no
// event.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <boost/asio.hpp>

#include <atomic>
#include <mutex>
#include <set>
#include <thread>

#include "daemon.hpp"
#include "pushgw/feedback/webhook.hpp"
#include "pushgw/http/server.hpp"
#include "support/eventually.hpp"
#include "support/http_client.hpp"
#include "support/redis_server.hpp"
#include "support/sim_process.hpp"

namespace pushgw::test {
namespace {

namespace asio = boost::asio;
using nlohmann::json;
using namespace std::chrono_literals;

constexpr const char* kSecret = "hook-secret";

// An APNs token, unique per i; `dead` ones start with 0410 (the simulator answers 410).
std::string token(std::size_t i, bool dead) {
  char hex[65];
  std::snprintf(hex, sizeof hex, "%064zx", i);
  std::string t(hex);
  t.replace(0, 4, dead ? "0410" : "ab00");
  return t;
}

// The webhook receiver: pushgw's HTTP server on its own thread. It records every batch it
// acknowledged and checks every signature; `hold` keeps requests unanswered (the sender then
// waits in the middle of a batch).
class Receiver {
 public:
  explicit Receiver(std::uint16_t port = 0) {
    http::ServerConfig config;
    config.host = "127.0.0.1";
    config.port = port;
    config.max_body_bytes = 16 * 1024 * 1024;
    http::Route hook{"POST", "/hook", false, [this](const http::Request& r) -> asio::awaitable<http::Response> {
      const auto events = json::parse(r.body).at("events");
      {
        std::lock_guard lock(mutex_);
        ++requests_;
        for (const auto& e : events) seen_.push_back(e.at("token").get<std::string>());
        const auto timestamp = r.header("x-pushgw-timestamp");
        const auto signature = r.header("x-pushgw-signature");
        if (!timestamp || !signature ||
            *signature != feedback::webhook_signature(kSecret, std::stoll(std::string(*timestamp)), r.body)) {
          ++bad_signatures_;
        }
      }
      asio::steady_timer wait(co_await asio::this_coro::executor);
      while (hold_) {
        wait.expires_after(10ms);
        co_await wait.async_wait(asio::use_awaitable);
      }
      std::lock_guard lock(mutex_);
      for (const auto& e : events) acked_.push_back(e.at("token").get<std::string>());
      co_return http::Response::json(200, "{}");
    }};
    server_ = std::make_unique<http::Server>(io_.get_executor(), config, std::vector<http::Route>{hook});
    server_->start();
    thread_ = std::thread([this] { io_.run(); });
  }
  ~Receiver() {
    hold_ = false;
    asio::post(io_, [this] { asio::co_spawn(io_, server_->shutdown(100ms), [this](std::exception_ptr) { io_.stop(); }); });
    thread_.join();
  }

  std::uint16_t port() const { return server_->port(); }
  void hold(bool on) { hold_ = on; }
  std::vector<std::string> acked() {
    std::lock_guard lock(mutex_);
    return acked_;
  }
  std::vector<std::string> seen() {
    std::lock_guard lock(mutex_);
    return seen_;
  }
  std::size_t bad_signatures() {
    std::lock_guard lock(mutex_);
    return bad_signatures_;
  }

 private:
  asio::io_context io_;
  std::unique_ptr<http::Server> server_;
  std::thread thread_;
  std::atomic<bool> hold_{false};
  std::mutex mutex_;
  std::vector<std::string> acked_, seen_;
  std::size_t requests_ = 0, bad_signatures_ = 0;
};

// A loopback port nothing listens on (taken, then given back).
std::uint16_t free_port() {
  asio::io_context io;
  asio::ip::tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
  return acceptor.local_endpoint().port();
}

class FeedbackTest : public ::testing::Test {
 protected:
  DaemonOptions options(const std::string& instance, std::uint16_t hook_port, const std::string& ttl = "90d") {
    DaemonOptions o;
    o.redis_url = redis_.url();
    o.provider_endpoint = sim_.endpoint();
    o.fcm_service_account = sim_.service_account_file();
    o.consume = true;
    o.instance_id = instance;
    o.api_keys = {"k"};
    o.extra_yaml = "feedback:\n  inactive_ttl: " + ttl +
                   "\n  webhook:\n    url: http://127.0.0.1:" + std::to_string(hook_port) +
                   "/hook\n    secret: " + kSecret + "\n    batch: 500\n    interval: 100ms\n    timeout: 1s\n";
    return o;
  }

  HttpResponse push(Daemon& daemon, const std::vector<std::string>& tokens) {
    const json body = {{"notifications", {{{"platform", "ios"}, {"tokens", tokens}, {"title", "t"}}}}};
    HttpRequest request;
    request.method = "POST";
    request.target = "/push";
    request.headers = {{"Content-Type", "application/json"}, {"Authorization", "Bearer k"}};
    request.body = body.dump();
    return http_request(daemon.port(), request);
  }
  HttpResponse token_api(Daemon& daemon, const std::string& method, const std::string& token) {
    HttpRequest request;
    request.method = method;
    request.target = "/tokens/ios/" + token + "?app=demo";
    request.headers = {{"Authorization", "Bearer k"}};
    return http_request(daemon.port(), request);
  }

  std::int64_t answered(const char* status) { return sim_.stats().at("by_status").value(status, 0); }
  bool queues_empty() { return redis_sync_.command({"KEYS", "pushgw:{*"})->elements == 0; }

  RedisServer redis_;
  SyncRedis redis_sync_{redis_};
  SimProcess sim_;
};

TEST_F(FeedbackTest, DeadTokensAreMarkedReportedOnceSignedAndSkippedUntilReactivated) {
  Receiver hook;
  Daemon daemon(options("feedback-1", hook.port(), "1h"));
  // 10,000 tokens, 30% dead.
  std::vector<std::string> tokens;
  std::set<std::string> dead;
  for (std::size_t i = 0; i < 10000; ++i) {
    tokens.push_back(token(i, i % 10 < 3));
    if (i % 10 < 3) dead.insert(tokens.back());
  }
  ASSERT_EQ(push(daemon, tokens).status, 202);
  ASSERT_TRUE(eventually([&] { return answered("200") + answered("410") == 10000 && queues_empty(); }, 180s))
      << daemon.log();
  EXPECT_EQ(answered("410"), 3000);

  // Exactly the dead tokens are marked, and the webhook gets exactly their events, signed.
  const auto marked = redis_sync_.command({"HKEYS", "pushgw:inactive:demo:ios"});
  std::set<std::string> marked_tokens;
  for (std::size_t i = 0; i < marked->elements; ++i) marked_tokens.emplace(marked->element[i]->str);
  EXPECT_EQ(marked_tokens, dead);
  ASSERT_TRUE(eventually([&] { return hook.acked().size() >= 3000; }, 60s)) << daemon.log();
  const auto acked = hook.acked();
  EXPECT_EQ(acked.size(), 3000u) << "each event once";
  EXPECT_EQ(std::set<std::string>(acked.begin(), acked.end()), dead);
  EXPECT_EQ(hook.bad_signatures(), 0u);
  EXPECT_EQ(redis_sync_.llen("pushgw:feedback"), 0);

  // The same notification again reaches only the live 70%.
  ASSERT_EQ(push(daemon, tokens).status, 202);
  ASSERT_TRUE(eventually([&] { return answered("200") == 14000 && queues_empty(); }, 180s)) << daemon.log();
  EXPECT_EQ(answered("410"), 3000);

  // The token API: a dead token's state, then reactivated; the next send reaches it (and the
  // simulator's fresh 410 marks it again).
  const std::string one = *dead.begin();
  const auto state = token_api(daemon, "GET", one);
  ASSERT_EQ(state.status, 200) << state.body;
  EXPECT_EQ(json::parse(state.body).at("active"), false);
  EXPECT_EQ(json::parse(state.body).at("reason"), "Unregistered");
  EXPECT_EQ(token_api(daemon, "DELETE", one).status, 204);
  EXPECT_EQ(json::parse(token_api(daemon, "GET", one).body), json({{"active", true}}));
  ASSERT_EQ(push(daemon, {one}).status, 202);
  ASSERT_TRUE(eventually([&] { return answered("410") == 3001 && queues_empty(); }, 60s)) << daemon.log();
  EXPECT_TRUE(eventually([&] { return json::parse(token_api(daemon, "GET", one).body).at("active") == false; }, 10s));

  // A mark older than feedback.inactive_ttl (1h here) no longer counts: the token is sent to.
  const std::string expired = *std::next(dead.begin());
  redis_sync_.command({"HSET", "pushgw:inactive:demo:ios", expired, R"({"reason":"Unregistered","at":1000})"});
  EXPECT_EQ(json::parse(token_api(daemon, "GET", expired).body).at("active"), true);
  ASSERT_EQ(push(daemon, {expired}).status, 202);
  ASSERT_TRUE(eventually([&] { return answered("410") == 3002 && queues_empty(); }, 60s)) << daemon.log();

  // Bad requests get their statuses.
  EXPECT_EQ(token_api(daemon, "GET", "nothex").status, 400);
  HttpRequest unknown_app{"GET", "/tokens/ios/" + one + "?app=nope", {{"Authorization", "Bearer k"}}, ""};
  EXPECT_EQ(http_request(daemon.port(), unknown_app).status, 404);
  HttpRequest no_key{"GET", "/tokens/ios/" + one, {}, ""};
  EXPECT_EQ(http_request(daemon.port(), no_key).status, 401);
}

TEST_F(FeedbackTest, AnUnreachableWebhookAndASenderKilledMidBatchLoseNoEvent) {
  const std::uint16_t port = free_port();
  std::vector<std::string> tokens;
  for (std::size_t i = 0; i < 800; ++i) tokens.push_back(token(i, true));
  const std::set<std::string> all(tokens.begin(), tokens.end());

  auto first = std::make_unique<Daemon>(options("webhook-a", port));
  ASSERT_EQ(push(*first, tokens).status, 202);
  ASSERT_TRUE(eventually([&] { return answered("410") == 800 && queues_empty(); }, 60s)) << first->log();
  // Nobody listens yet: the events wait in Redis (a batch of 500 taken, 300 on the list).
  ASSERT_TRUE(eventually([&] { return redis_sync_.llen("{pushgw:feedback}:webhook:batch") == 500; }, 30s))
      << first->log();
  EXPECT_EQ(redis_sync_.llen("pushgw:feedback"), 300);

  // The receiver comes up but holds the request: the instance is killed in the middle of it.
  auto hook = std::make_unique<Receiver>(port);
  hook->hold(true);
  ASSERT_TRUE(eventually([&] { return hook->seen().size() >= 500; }, 30s)) << first->log();
  first->process().kill();
  first.reset();
  const auto held = hook->seen();  // the batch that was never answered
  EXPECT_EQ(redis_sync_.llen("{pushgw:feedback}:webhook:batch"), 500) << "not acknowledged: still in Redis";

  // Another instance takes over once the dead one's lease expires, and sends that batch again,
  // then the rest.
  hook->hold(false);
  Daemon second(options("webhook-b", port));
  ASSERT_TRUE(eventually([&] { return hook->seen().size() >= held.size() + 800; }, 60s)) << second.log();
  const auto seen = hook->seen();
  const std::set<std::string> after(seen.begin() + static_cast<std::ptrdiff_t>(held.size()), seen.end());
  EXPECT_EQ(after, all) << "every event, the unanswered batch's again";
  EXPECT_EQ(seen.size(), held.size() + 800) << "nothing else twice";
  EXPECT_EQ(hook->bad_signatures(), 0u);
  EXPECT_TRUE(eventually([&] { return redis_sync_.llen("{pushgw:feedback}:webhook:batch") == 0; }, 10s));
}

}  // namespace
}  // namespace pushgw::test
