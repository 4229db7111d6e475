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

// A real redis-server and a client on `io`.
struct RedisOnLoopback {
  RedisOnLoopback() : sync(server), client(io.get_executor(), client_config(server)) { client.start(); }
  static redis::ClientConfig client_config(const test::RedisServer& server) {
    redis::ClientConfig config;
    config.endpoint.host = server.host();
    config.endpoint.port = server.port();
    return config;
  }
  test::RedisServer server;
  test::SyncRedis sync;
  asio::io_context io;
  redis::Client client;
};

TEST(InactiveTokens, MarkedTokensAreFoundAndReportedAndTheListIsCapped) {
  RedisOnLoopback r;
  auto& [server, sync, io, client] = r;
  config::FeedbackConfig feedback;
  feedback.max_events = 2;
  InactiveTokens registry(client, queue::Keys().feedback(), feedback);

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

TEST(InactiveTokens, ConcurrentLookupsShareHmgetsAndEachGetsItsOwnAnswer) {
  RedisOnLoopback r;
  auto& [server, sync, io, client] = r;
  InactiveTokens registry(client, queue::Keys().feedback(), config::FeedbackConfig{});
  const std::string key = queue::Keys().feedback().inactive("demo", "ios");
  // 300 jobs of 1–4 tokens (1300 in all, more than one HMGET takes); every third token is dead.
  constexpr int kJobs = 300;
  std::vector<std::vector<std::string>> jobs(kJobs);
  std::vector<std::vector<bool>> expected(kJobs);
  int total = 0;
  for (int i = 0; i < kJobs; ++i) {
    for (int t = 0; t <= i % 4; ++t, ++total) {
      jobs[i].push_back("tok-" + std::to_string(total));
      expected[i].push_back(total % 3 == 0);
      if (total % 3 == 0) sync.command({"HSET", key, jobs[i].back(), "{}"});
    }
  }
  std::vector<std::vector<bool>> answers(kJobs);
  int finished = 0;
  asio::co_spawn(io, [&]() -> asio::awaitable<void> {
    while (!client.connected()) {
      asio::steady_timer t(io, 10ms);
      co_await t.async_wait(asio::use_awaitable);
    }
    sync.command({"CONFIG", "RESETSTAT"});
    auto ex = co_await asio::this_coro::executor;
    for (int i = 0; i < kJobs; ++i) {
      asio::co_spawn(ex, [&, i]() -> asio::awaitable<void> {
        auto [ec, flags] = co_await registry.lookup("demo", "ios", jobs[i]);
        EXPECT_FALSE(ec) << ec.message();
        answers[i] = flags;
        if (++finished == kJobs) io.stop();
      }, asio::detached);
    }
  }, asio::detached);
  io.run_for(30s);
  ASSERT_EQ(finished, kJobs);
  for (int i = 0; i < kJobs; ++i) EXPECT_EQ(answers[i], expected[i]) << "job " << i;
  // The first lookup alone, then the rest in HMGETs of at most kMaxTokensPerLookup tokens.
  const auto info = sync.command({"INFO", "commandstats"});
  const std::string stats(info->str, info->len);
  const auto at = stats.find("cmdstat_hmget:calls=");
  ASSERT_NE(at, std::string::npos) << stats;
  const int calls = std::stoi(stats.substr(at + 20));
  const int at_least = 1 + (total - 1 + static_cast<int>(InactiveTokens::kMaxTokensPerLookup) - 1) /
                               static_cast<int>(InactiveTokens::kMaxTokensPerLookup);
  EXPECT_GE(calls, at_least) << stats;
  EXPECT_LE(calls, at_least + 2) << stats;
}

}  // namespace
}  // namespace pushgw::feedback
