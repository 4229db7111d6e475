// The inactive-token registry against a real redis-server.
#include "pushgw/feedback/inactive_tokens.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <boost/asio.hpp>

#include "support/asio_wait.hpp"
#include "support/redis_server.hpp"
// Last: GCC 12's false -Wmismatched-new-delete on Asio coroutine frames.
#include "pushgw/common/coroutine_warnings.hpp"

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
    const std::int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                                 std::chrono::system_clock::now().time_since_epoch()).count();
    std::vector<DeadToken> dead{{"t1", "Unregistered", now, std::nullopt}, {"t3", "BadDeviceToken", now, std::nullopt},
                                {"t4", "BadDeviceToken", now, std::nullopt}};
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


std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Commands Redis ran since the last CONFIG RESETSTAT, from INFO commandstats.
long long commands_run(test::SyncRedis& sync) {
  const auto info = sync.command({"INFO", "commandstats"});
  const std::string stats(info->str, info->len);
  long long total = 0;
  for (std::size_t at = stats.find(":calls="); at != std::string::npos; at = stats.find(":calls=", at + 1)) {
    if (stats.compare(stats.rfind('\n', at) + 1, 13, "cmdstat_info:") == 0) continue;  // our own
    total += std::stoll(stats.substr(at + 7));
  }
  return total;
}

asio::awaitable<void> connected(redis::Client& client) {
  co_await test::eventually_async([&] { return client.connected(); });
}

TEST(InactiveTokens, AMarkOlderThanTheTtlCountsForNothingAndTheSweepRemovesIt) {
  RedisOnLoopback r;
  auto& [server, sync, io, client] = r;
  config::FeedbackConfig feedback;
  feedback.inactive_ttl = 1h;
  InactiveTokens registry(client, queue::Keys().feedback(), feedback);
  const auto keys = queue::Keys().feedback();
  const std::int64_t now = now_ms();
  sync.command({"HSET", keys.inactive("demo", "ios"), "fresh", inactive_value({"fresh", "Unregistered", now - 1000, {}}),
                "old", inactive_value({"old", "Unregistered", now - 2 * 3600 * 1000, {}}), "by-hand", "1",
                "old-spaced", "{\"reason\": \"x\", \"at\": " + std::to_string(now - 2 * 3600 * 1000) + "}"});
  sync.command({"HSET", keys.reactivated("demo", "ios"), "back-old", std::to_string(now - 2 * 3600 * 1000),
                "back-new", std::to_string(now)});

  test::run_until_done(io, [&]() -> asio::awaitable<void> {
    co_await connected(client);
    const std::vector<std::string> tokens{"fresh", "old", "by-hand", "never", "old-spaced"};
    auto [ec, flags] = co_await registry.lookup("demo", "ios", tokens);
    EXPECT_FALSE(ec);
    EXPECT_EQ(flags, (std::vector<bool>{true, false, true, false, false})) << "a value without \"at\" never expires";

    auto [ec2, fresh] = co_await registry.state("demo", "ios", "fresh");
    EXPECT_TRUE(fresh);
    if (fresh) {
      EXPECT_EQ(fresh->reason, "Unregistered");
      EXPECT_EQ(fresh->at_ms, now - 1000);
    }
    auto [ec3, old] = co_await registry.state("demo", "ios", "old");
    EXPECT_FALSE(old);

    auto [ec4, removed] = co_await registry.expire_marks("demo", "ios", now_ms());
    EXPECT_FALSE(ec4);
    EXPECT_EQ(removed, 2u);
  }());
  EXPECT_EQ(sync.command({"HKEYS", keys.inactive("demo", "ios")})->elements, 2u);  // fresh, by-hand
  EXPECT_EQ(sync.command({"HEXISTS", keys.inactive("demo", "ios"), "old"})->integer, 0);
  EXPECT_EQ(sync.command({"HEXISTS", keys.reactivated("demo", "ios"), "back-old"})->integer, 0);
  EXPECT_EQ(sync.command({"HEXISTS", keys.reactivated("demo", "ios"), "back-new"})->integer, 1);
}

// An APNs 410 says since when the token is invalid. A reactivation after that time means the
// device registered the token again: the 410 (from a send that was already under way) does
// not mark it. A 410 newer than the reactivation does.
TEST(InactiveTokens, AReactivationWinsOverAnOlderInvalidSinceAndLosesToANewerOne) {
  RedisOnLoopback r;
  auto& [server, sync, io, client] = r;
  InactiveTokens registry(client, queue::Keys().feedback(), config::FeedbackConfig{});
  const std::int64_t now = now_ms();
  test::run_until_done(io, [&]() -> asio::awaitable<void> {
    co_await connected(client);
    const std::vector<std::string> token{"t1"};
    // Named, not temporaries in the co_await expression (GCC 12).
    const std::vector<DeadToken> bad{{"t1", "BadDeviceToken", now - 5000, std::nullopt}};
    const std::vector<DeadToken> gone_before{{"t1", "Unregistered", now, now - 2000}};
    const std::vector<DeadToken> gone_after{{"t1", "Unregistered", now, now - 500}};
    EXPECT_FALSE(co_await registry.mark("demo", "ios", bad));
    auto [ec, was_marked] = co_await registry.reactivate("demo", "ios", "t1", now - 1000);
    EXPECT_FALSE(ec);
    EXPECT_TRUE(was_marked);
    auto [ec1, flags] = co_await registry.lookup("demo", "ios", token);
    EXPECT_EQ(flags, std::vector<bool>{false});

    EXPECT_FALSE(co_await registry.mark("demo", "ios", gone_before));
    auto [ec2, still_active] = co_await registry.state("demo", "ios", "t1");
    EXPECT_FALSE(still_active) << "invalid since before the reactivation: not marked";

    EXPECT_FALSE(co_await registry.mark("demo", "ios", gone_after));
    auto [ec3, marked] = co_await registry.state("demo", "ios", "t1");
    EXPECT_TRUE(marked);
    if (marked) {
      EXPECT_EQ(marked->reason, "Unregistered");
    }

    auto [ec4, again] = co_await registry.reactivate("demo", "ios", "never-marked", now);
    EXPECT_FALSE(again);
  }());
  // One event per mark made, none for the 410 that lost.
  const auto events = sync.lrange("pushgw:feedback");
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(json::parse(events[0]).at("reason"), "Unregistered");
  EXPECT_EQ(json::parse(events[1]).at("reason"), "BadDeviceToken");
}

// Commands as Redis counts them, those a script makes included.
TEST(InactiveTokens, MarkingDeadTokensCostsTheSameCommandsWhateverTheirNumber) {
  RedisOnLoopback r;
  auto& [server, sync, io, client] = r;
  InactiveTokens registry(client, queue::Keys().feedback(), config::FeedbackConfig{});
  const auto dead_tokens = [](int n, char tag) {
    std::vector<DeadToken> dead;
    for (int i = 0; i < n; ++i) dead.push_back({std::string(1, tag) + std::to_string(i), "Unregistered", 1, 1});  // 410s
    return dead;
  };
  std::vector<long long> commands;
  test::run_until_done(io, [&]() -> asio::awaitable<void> {
    co_await connected(client);
    const auto warm_up = dead_tokens(1, 'w');  // loads the script (EVALSHA, NOSCRIPT, EVAL)
    EXPECT_FALSE(co_await registry.mark("demo", "ios", warm_up));
    for (auto [n, tag] : {std::pair{2, 'a'}, std::pair{1000, 'b'}}) {
      const auto dead = dead_tokens(n, tag);
      sync.command({"CONFIG", "RESETSTAT"});
      EXPECT_FALSE(co_await registry.mark("demo", "ios", dead));
      commands.push_back(commands_run(sync));
    }
  }());
  ASSERT_EQ(commands.size(), 2u);
  EXPECT_EQ(commands[0], commands[1]);
  EXPECT_EQ(sync.command({"HLEN", "pushgw:inactive:demo:ios"})->integer, 1003);
}

}  // namespace
}  // namespace pushgw::feedback
