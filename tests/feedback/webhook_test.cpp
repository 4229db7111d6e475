// The feedback webhook: its signature and body, and the sender against a real redis-server and
// a receiver in the test (pushgw's own HTTP server), including a receiver that refuses, one
// that is not there yet, a batch a dead sender left, and two instances sharing the list.
#include "pushgw/feedback/webhook.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <boost/asio.hpp>

#include <array>
#include <set>

#include "pushgw/http/server.hpp"
#include "pushgw/metrics/metrics.hpp"
#include "support/asio_wait.hpp"
#include "support/redis_server.hpp"

namespace pushgw::feedback {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using nlohmann::json;

TEST(WebhookSignature, IsHmacSha256OfTimestampDotBodyInHex) {
  // python3 -c 'import hmac,hashlib; print(hmac.new(b"shh", b"1700000000.{\"events\":[]}", hashlib.sha256).hexdigest())'
  EXPECT_EQ(webhook_signature("shh", 1700000000, R"({"events":[]})"),
            "sha256=12db9c857e09a5cd5308ee308cc6888ac9dacb58344d4026c86a09e3f5fa9384");
  EXPECT_NE(webhook_signature("shh", 1700000001, R"({"events":[]})"), webhook_signature("shh", 1700000000, R"({"events":[]})"));
}

TEST(WebhookBody, PassesEventsThroughAndWrapsWhatIsNotAJsonObject) {
  std::size_t malformed = 0;
  const std::string body = webhook_body({R"({"token":"a"})", "not json", "[1]", R"({"token":"b"})"}, &malformed);
  EXPECT_EQ(malformed, 2u);
  EXPECT_EQ(json::parse(body), json::parse(R"({"events":[{"token":"a"},{"malformed":"not json"},{"malformed":"[1]"},{"token":"b"}]})"));
}

// What the receiver saw: each request's events, and whether its signature was right.
struct Received {
  std::vector<std::vector<json>> batches;
  std::size_t bad_signatures = 0;
  std::size_t refused = 0;
};

class WebhookTest : public ::testing::Test {
 protected:
  WebhookTest() : sync_(server_), client_(io_.get_executor(), client_config()), metrics_(registry_) {
    client_.start();
  }

  redis::ClientConfig client_config() const {
    redis::ClientConfig c;
    c.endpoint.host = server_.host();
    c.endpoint.port = server_.port();
    return c;
  }

  // A receiver that answers `refuse_first` requests with 503, then 200.
  std::unique_ptr<http::Server> receiver(std::size_t refuse_first = 0, std::uint16_t port = 0) {
    http::ServerConfig config;
    config.host = "127.0.0.1";
    config.port = port;
    http::Route hook{"POST", "/hook", false, [this, refuse_first](const http::Request& r) -> asio::awaitable<http::Response> {
      if (received_.refused < refuse_first) {
        ++received_.refused;
        co_return http::Response::error(503, "not now");
      }
      const auto timestamp = r.header("x-pushgw-timestamp");
      const auto signature = r.header("x-pushgw-signature");
      if (!timestamp || !signature ||
          *signature != webhook_signature("s3cret", std::stoll(std::string(*timestamp)), r.body)) {
        ++received_.bad_signatures;
      }
      received_.batches.push_back(json::parse(r.body).at("events").get<std::vector<json>>());
      co_return http::Response::json(200, "{}");
    }};
    auto server = std::make_unique<http::Server>(io_.get_executor(), config, std::vector<http::Route>{hook});
    server->start();
    return server;
  }

  config::WebhookConfig webhook_config(std::uint16_t port) const {
    config::WebhookConfig c;
    c.url = "http://127.0.0.1:" + std::to_string(port) + "/hook";
    c.secret = "s3cret";
    c.batch = 100;
    c.interval = 50ms;
    c.timeout = 2s;
    return c;
  }

  // `n` events on the list, oldest first: {"token":"t<i>"}.
  void push_events(int n, int first = 0) {
    for (int i = first; i < first + n; ++i) {
      sync_.command({"LPUSH", keys_.feedback().events(), json({{"token", "t" + std::to_string(i)}}).dump()});
    }
  }

  std::vector<std::string> delivered_tokens() const {
    std::vector<std::string> tokens;
    for (const auto& batch : received_.batches) {
      for (const auto& event : batch) tokens.push_back(event.at("token").get<std::string>());
    }
    return tokens;
  }
  static std::vector<std::string> tokens_from(int first, int n) {
    std::vector<std::string> tokens;
    for (int i = first; i < first + n; ++i) tokens.push_back("t" + std::to_string(i));
    return tokens;
  }

  void stop(WebhookSender& sender) { test::run_until_done(io_, sender.stop()); }

  test::RedisServer server_;
  test::SyncRedis sync_;
  asio::io_context io_;
  redis::Client client_;
  queue::Keys keys_;
  metrics::Registry registry_;
  metrics::PushgwMetrics metrics_;
  Received received_;
};

TEST_F(WebhookTest, DeliversEveryEventOnceInOrderInSignedBatchesAndEmptiesTheList) {
  auto hook = receiver();
  push_events(250);
  queue::InstanceRegistry instance(client_, keys_, "pod-1");
  WebhookSender sender(io_.get_executor(), client_, keys_.feedback(), instance, webhook_config(hook->port()), metrics_);
  sender.start();
  ASSERT_TRUE(test::run_until(io_, [&] { return delivered_tokens().size() >= 250; }));
  stop(sender);
  EXPECT_EQ(delivered_tokens(), tokens_from(0, 250));
  ASSERT_EQ(received_.batches.size(), 3u);
  EXPECT_EQ(received_.batches[0].size(), 100u);
  EXPECT_EQ(received_.batches[2].size(), 50u);
  EXPECT_EQ(received_.bad_signatures, 0u);
  EXPECT_EQ(sync_.llen(keys_.feedback().events()), 0);
  EXPECT_EQ(sync_.llen(keys_.feedback().webhook_batch()), 0);
  EXPECT_EQ(metrics_.webhook_events.with({}).value(), 250);
  EXPECT_EQ(metrics_.webhook_requests.with({"ok"}).value(), 3);
}

TEST_F(WebhookTest, ARefusingOrAbsentReceiverLosesNothingAndGetsEveryEventOnceItAnswers) {
  // First nobody listens on the port; then a receiver that refuses twice comes up there.
  std::uint16_t port = 0;
  {
    auto probe = receiver();
    port = probe->port();
    test::run_until_done(io_, probe->shutdown(0ms));
  }
  push_events(30);
  queue::InstanceRegistry instance(client_, keys_, "pod-1");
  WebhookSender sender(io_.get_executor(), client_, keys_.feedback(), instance, webhook_config(port), metrics_);
  sender.start();
  ASSERT_TRUE(test::run_until(io_, [&] { return metrics_.webhook_requests.with({"unreachable"}).value() >= 1; }));
  EXPECT_EQ(sync_.llen(keys_.feedback().webhook_batch()), 30) << "the batch waits in Redis";
  push_events(10, 30);  // events keep arriving meanwhile
  auto hook = receiver(2, port);
  ASSERT_TRUE(test::run_until(io_, [&] { return delivered_tokens().size() >= 40; }));
  stop(sender);
  EXPECT_EQ(delivered_tokens(), tokens_from(0, 40));
  EXPECT_EQ(received_.refused, 2u);
  EXPECT_EQ(metrics_.webhook_requests.with({"refused"}).value(), 2);
  EXPECT_EQ(sync_.llen(keys_.feedback().events()), 0);
}

// A sender that died mid-batch left it in Redis: the next sender delivers it first, then the rest.
TEST_F(WebhookTest, ABatchLeftByADeadSenderIsDeliveredFirst) {
  auto hook = receiver();
  push_events(5, 3);  // t3..t7 still on the list
  // The batch list holds the newest at its head, as the take script leaves it.
  sync_.command({"LPUSH", keys_.feedback().webhook_batch(), R"({"token":"t0"})", R"({"token":"t1"})", R"({"token":"t2"})"});
  queue::InstanceRegistry instance(client_, keys_, "pod-2");
  WebhookSender sender(io_.get_executor(), client_, keys_.feedback(), instance, webhook_config(hook->port()), metrics_);
  sender.start();
  ASSERT_TRUE(test::run_until(io_, [&] { return delivered_tokens().size() >= 8; }));
  stop(sender);
  EXPECT_EQ(delivered_tokens(), tokens_from(0, 8));
  EXPECT_EQ(received_.batches.front().size(), 3u);
}

// A "webhook" that is not an HTTP server: it answers garbage, or nothing at all.
class RawListener {
 public:
  RawListener(asio::io_context& io, bool answer_garbage)
      : acceptor_(io, {asio::ip::make_address("127.0.0.1"), 0}), garbage_(answer_garbage) {
    accept();
  }
  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }

 private:
  void accept() {
    acceptor_.async_accept([this](boost::system::error_code ec, asio::ip::tcp::socket socket) {
      if (ec) return;
      auto held = std::make_shared<asio::ip::tcp::socket>(std::move(socket));
      sockets_.push_back(held);  // kept open: the silent listener never answers
      auto buffer = std::make_shared<std::array<char, 4096>>();
      held->async_read_some(asio::buffer(*buffer), [this, held, buffer](boost::system::error_code, std::size_t) {
        if (garbage_) {
          asio::async_write(*held, asio::buffer(std::string_view("this is not HTTP\r\n\r\n")),
                            [held](boost::system::error_code, std::size_t) { held->close(); });
        }
      });
      accept();
    });
  }

  asio::ip::tcp::acceptor acceptor_;
  bool garbage_;
  std::vector<std::shared_ptr<asio::ip::tcp::socket>> sockets_;
};

TEST_F(WebhookTest, GarbageAndSilenceAreCountedRetriesAndTheEventsStay) {
  for (const bool garbage : {true, false}) {
    RawListener listener(io_, garbage);
    push_events(3);
    queue::InstanceRegistry instance(client_, keys_, garbage ? "pod-g" : "pod-s");
    auto config = webhook_config(listener.port());
    config.timeout = 200ms;
    WebhookSender sender(io_.get_executor(), client_, keys_.feedback(), instance, config, metrics_);
    sender.start();
    const char* outcome = garbage ? "error" : "timeout";
    ASSERT_TRUE(test::run_until(io_, [&] { return metrics_.webhook_requests.with({outcome}).value() >= 1; })) << outcome;
    stop(sender);
    EXPECT_EQ(sync_.llen(keys_.feedback().webhook_batch()) + sync_.llen(keys_.feedback().events()), 3) << outcome;
    EXPECT_EQ(metrics_.webhook_events.with({}).value(), 0);
    sync_.command({"DEL", keys_.feedback().webhook_batch(), keys_.feedback().webhook_lease()});
  }
}

TEST_F(WebhookTest, TwoInstancesDeliverEachEventOnce) {
  auto hook = receiver();
  queue::InstanceRegistry a(client_, keys_, "pod-a");
  queue::InstanceRegistry b(client_, keys_, "pod-b");
  WebhookSender first(io_.get_executor(), client_, keys_.feedback(), a, webhook_config(hook->port()), metrics_);
  WebhookSender second(io_.get_executor(), client_, keys_.feedback(), b, webhook_config(hook->port()), metrics_);
  first.start();
  second.start();
  push_events(500);
  ASSERT_TRUE(test::run_until(io_, [&] { return delivered_tokens().size() >= 500; }));
  stop(first);
  stop(second);
  const auto tokens = delivered_tokens();
  EXPECT_EQ(std::set<std::string>(tokens.begin(), tokens.end()).size(), 500u);
  EXPECT_EQ(tokens.size(), 500u) << "no event twice";
}

}  // namespace
}  // namespace pushgw::feedback
