// The inactive-token registry against a real redis-server.
#include "pushgw/feedback/inactive_tokens.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <boost/asio.hpp>

#include "support/redis_server.hpp"

namespace pushgw::feedback {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using nlohmann::json;

TEST(InactiveValue, CarriesReasonTimeAndTheProvidersTimestamp) {
  DeadToken dead{"tok", "Unregistered", 1000, 900};
  EXPECT_EQ(json::parse(inactive_value(dead)), json({{"reason", "Unregistered"}, {"at", 1000}, {"invalid_since", 900}}));
  dead.invalid_since_ms.reset();
  EXPECT_EQ(json::parse(feedback_event("demo", "ios", dead)),
            json({{"app", "demo"}, {"platform", "ios"}, {"token", "tok"}, {"reason", "Unregistered"}, {"at", 1000}}));
}

TEST(InactiveTokens, MarkedTokensAreFoundAndReportedAndTheListIsCapped) {
  test::RedisServer server;
  test::SyncRedis sync(server);
  asio::io_context io;
  redis::ClientConfig config;
  config.endpoint.host = server.host();
  config.endpoint.port = server.port();
  redis::Client client(io.get_executor(), config);
  client.start();
  config::FeedbackConfig feedback;
  feedback.max_events = 2;
  InactiveTokens registry(client, queue::Keys(), feedback);

  bool finished = false;
  asio::co_spawn(io, [&]() -> asio::awaitable<void> {
    while (!client.connected()) {
      asio::steady_timer t(io, 10ms);
      co_await t.async_wait(asio::use_awaitable);
    }
    const std::vector<std::string> tokens{"t1", "t2", "t3"};
    auto [ec, before] = co_await registry.lookup("demo", "ios", tokens);
    EXPECT_FALSE(ec);
    EXPECT_EQ(before, (std::vector<bool>{false, false, false}));
    std::vector<DeadToken> dead{{"t1", "Unregistered", 1, std::nullopt}, {"t3", "BadDeviceToken", 2, std::nullopt},
                                {"t4", "BadDeviceToken", 3, std::nullopt}};
    EXPECT_FALSE(co_await registry.mark("demo", "ios", dead));
    auto [ec2, after] = co_await registry.lookup("demo", "ios", tokens);
    EXPECT_EQ(after, (std::vector<bool>{true, false, true}));
    auto [ec3, other_app] = co_await registry.lookup("other", "ios", tokens);
    EXPECT_EQ(other_app, (std::vector<bool>{false, false, false}));
  }, [&](std::exception_ptr e) {
    finished = true;
    io.stop();
    if (e) std::rethrow_exception(e);
  });
  io.run_for(30s);
  ASSERT_TRUE(finished);
  const auto events = sync.lrange("pushgw:feedback");
  ASSERT_EQ(events.size(), 2u);  // capped at max_events, newest first
  EXPECT_EQ(json::parse(events[0]).at("token"), "t4");
  EXPECT_EQ(json::parse(events[1]).at("token"), "t3");
}

}  // namespace
}  // namespace pushgw::feedback
