// feedback/mark_expiry: how often it sweeps, and a sweep against a real redis-server.
#include "pushgw/feedback/mark_expiry.hpp"

#include <gtest/gtest.h>

#include <boost/asio.hpp>

#include "pushgw/metrics/metrics.hpp"
#include "support/asio_wait.hpp"
#include "support/redis_server.hpp"

namespace pushgw::feedback {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

TEST(MarkExpiry, SweepsEveryTenthOfTheTtlBetweenASecondAndAnHour) {
  EXPECT_EQ(MarkExpiry::interval(90 * 24h), 1h);
  EXPECT_EQ(MarkExpiry::interval(1h), 6min);
  EXPECT_EQ(MarkExpiry::interval(2s), 1s);
}

TEST(MarkExpiry, RemovesExpiredMarksOfEveryAppAndPlatformAndCountsThem) {
  test::RedisServer server;
  test::SyncRedis sync(server);
  asio::io_context io;
  redis::ClientConfig c;
  c.endpoint.host = server.host();
  c.endpoint.port = server.port();
  redis::Client client(io.get_executor(), c);
  client.start();
  const queue::Keys keys;
  config::FeedbackConfig feedback;
  feedback.inactive_ttl = 2s;
  InactiveTokens tokens(client, keys.feedback(), feedback);
  metrics::Registry registry;
  metrics::PushgwMetrics metrics(registry);
  const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch()).count();
  const std::string old = inactive_value({"x", "Unregistered", now - 60000, {}});
  sync.command({"HSET", keys.feedback().inactive("a", "ios"), "t1", old, "t2", old});
  sync.command({"HSET", keys.feedback().inactive("b", "android"), "t3", old});
  sync.command({"HSET", keys.feedback().inactive("c", "ios"), "t4", old});  // no provider: not swept

  MarkExpiry expiry(io.get_executor(), tokens, {{"a", "ios"}, {"b", "android"}}, feedback.inactive_ttl, metrics);
  expiry.start();
  ASSERT_TRUE(test::run_until(io, [&] {
    return metrics.inactive_marks_expired.with({"ios"}).value() == 2 &&
           metrics.inactive_marks_expired.with({"android"}).value() == 1;
  }));
  test::run_until_done(io, expiry.stop());
  EXPECT_EQ(sync.command({"EXISTS", keys.feedback().inactive("a", "ios")})->integer, 0);
  EXPECT_EQ(sync.command({"EXISTS", keys.feedback().inactive("b", "android")})->integer, 0);
  EXPECT_EQ(sync.command({"HLEN", keys.feedback().inactive("c", "ios")})->integer, 1);
}

}  // namespace
}  // namespace pushgw::feedback
