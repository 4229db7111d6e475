// The Consumer against a real redis-server: bounded workers, lane weights, and shutdown.
#include "pushgw/queue/consumer.hpp"

#include <gtest/gtest.h>

#include <boost/asio.hpp>

#include "support/asio_wait.hpp"
#include "support/redis_server.hpp"

namespace pushgw::queue {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

class ConsumerTest : public ::testing::Test {
 protected:
  ConsumerTest() : sync_(server_) {
    redis_config_.endpoint.host = server_.host();
    redis_config_.endpoint.port = server_.port();
    redis_config_.reconnect_min = 20ms;
    redis_config_.reconnect_max = 200ms;
    client_ = std::make_unique<redis::Client>(io_.get_executor(), redis_config_);
    client_->start();
    store_ = std::make_unique<JobStore>(*client_, Keys(), "pod-1");
    // Connected before a consumer starts: a lane whose first take fails backs off (with jitter)
    // and would leave the others alone for a while, which the weighting tests must not see.
    EXPECT_TRUE(test::run_until(io_, [&] { return client_->connected(); }, 30s));
  }

  ConsumerConfig config(std::size_t workers) {
    ConsumerConfig c;
    c.queue.workers = workers;
    c.queue.batch = 8;
    c.queue.block_timeout = 100ms;
    c.redis = redis_config_;
    return c;
  }

  // Runs the io_context until `done` holds (a hang guard, not a timing check).
  void run_until(const std::function<bool()>& done, std::chrono::seconds limit = 30s) {
    ASSERT_TRUE(test::run_until(io_, done, limit));
  }

  void push(Lane lane, int n) {
    const std::string name(lane.name());
    for (int i = 0; i < n; ++i) sync_.command({"LPUSH", Keys().lane(lane).queue, name + "-" + std::to_string(i)});
  }

  test::RedisServer server_;
  test::SyncRedis sync_;
  asio::io_context io_;
  redis::ClientConfig redis_config_;
  std::unique_ptr<redis::Client> client_;
  std::unique_ptr<JobStore> store_;
};

TEST_F(ConsumerTest, HandlesEveryJobOnceWithNoMoreThanTheWorkersAtOnce) {
  push(Lane::default_lane(), 50);
  std::vector<std::string> handled;
  std::size_t running = 0, most = 0;
  Consumer consumer(io_.get_executor(), *store_, config(4), [&](Lane lane, std::string element, asio::cancellation_slot) -> asio::awaitable<void> {
    ++running;
    most = std::max(most, running);
    asio::steady_timer t(io_, 5ms);
    co_await t.async_wait(asio::use_awaitable);
    handled.push_back(element);
    co_await store_->ack(lane, element, AckPlan{});
    --running;
  });
  consumer.start();
  run_until([&] { return handled.size() == 50 && sync_.llen(Keys().processing(Lane::default_lane(), "pod-1")) == 0; });
  EXPECT_LE(most, 4u);
  std::sort(handled.begin(), handled.end());
  EXPECT_EQ(std::unique(handled.begin(), handled.end()), handled.end());
  EXPECT_EQ(sync_.llen(Keys().lane(Lane::default_lane()).queue), 0);
}

TEST_F(ConsumerTest, BigJobsRunWithinTheByteBudgetAndSmallOnesUpToTheWorkers) {
  // 6 jobs of 1000 bytes under a 2500-byte budget: at most 2 at once, though 8 workers are
  // free; then 20 small ones run 8 at once. One of 5000 bytes (over the budget) runs alone.
  const std::string big(1000, 'b');
  for (int i = 0; i < 6; ++i) sync_.command({"LPUSH", Keys().lane(Lane::default_lane()).queue, big + std::to_string(i)});
  sync_.command({"LPUSH", Keys().lane(Lane::default_lane()).queue, std::string(5000, 'h')});
  push(Lane::default_lane(), 20);
  auto c = config(8);
  c.queue.in_progress_bytes = 2500;
  std::size_t handled = 0, running = 0, running_bytes = 0, most_small = 0, most_bytes = 0;
  bool huge_alone = true, eight_small_ran = false;
  Consumer consumer(io_.get_executor(), *store_, c, [&](Lane lane, std::string element, asio::cancellation_slot) -> asio::awaitable<void> {
    ++running;
    running_bytes += element.size();
    most_bytes = std::max(most_bytes, running_bytes);
    if (element.size() < 100) most_small = std::max(most_small, running);
    eight_small_ran = eight_small_ran || most_small == 8;
    // Small jobs wait for 8 to run at once (a hang guard of 2 s: the budget must not stop them).
    const auto give_up = std::chrono::steady_clock::now() + 2s;
    do {
      asio::steady_timer t(io_, element.size() < 100 ? 1ms : 10ms);
      co_await t.async_wait(asio::use_awaitable);
    } while (element.size() < 100 && !eight_small_ran && std::chrono::steady_clock::now() < give_up);
    if (element.size() == 5000 && running != 1) huge_alone = false;
    ++handled;
    --running;
    running_bytes -= element.size();
    co_await store_->ack(lane, element, AckPlan{});
  });
  consumer.start();
  run_until([&] { return handled == 27 && sync_.llen(Keys().processing(Lane::default_lane(), "pod-1")) == 0; });
  EXPECT_GE(most_bytes, 2002u);   // two big ones did run together
  EXPECT_LE(most_bytes, 5000u);   // never more than the budget, or one job over it alone
  EXPECT_TRUE(huge_alone);
  EXPECT_EQ(most_small, 8u);      // small jobs: the workers are the limit
}

TEST_F(ConsumerTest, BusyLanesShareWorkersByWeight) {
  push(Lane::bulk(), 100);
  push(Lane::high(), 100);
  std::vector<std::string> order;
  Consumer consumer(io_.get_executor(), *store_, config(1), [&](Lane lane, std::string element, asio::cancellation_slot) -> asio::awaitable<void> {
    order.push_back(std::string(lane.name()));
    co_await store_->ack(lane, element, AckPlan{});
  });
  consumer.start();
  run_until([&] { return order.size() >= 45; });
  const auto high = std::count(order.begin(), order.begin() + 45, "high");
  EXPECT_GE(high, 35) << "weights 8:1 give high about 40 of 45";
  EXPECT_LE(high, 44) << "bulk must still get its share";
}

// At the deadline each running job gets its own stop signal and returns before stop() puts its
// element back: no handler is left running beside the requeued copy.
TEST_F(ConsumerTest, StopSignalsJobsStillRunningAtTheDeadlineAndPutsThemBackAtTheHeadOfTheQueue) {
  push(Lane::default_lane(), 3);
  std::size_t started = 0, signalled = 0, returned = 0;
  Consumer consumer(io_.get_executor(), *store_, config(8), [&](Lane, std::string, asio::cancellation_slot stop) -> asio::awaitable<void> {
    ++started;
    asio::steady_timer t(io_, 1h);  // never finishes before the deadline
    auto [ec] = co_await t.async_wait(asio::bind_cancellation_slot(stop, asio::as_tuple(asio::use_awaitable)));
    if (ec == asio::error::operation_aborted) ++signalled;
    ++returned;
  });
  consumer.start();
  run_until([&] { return started == 3; });
  bool stopped = false, finished = true;
  asio::co_spawn(io_, [&]() -> asio::awaitable<void> {
    finished = co_await consumer.stop(std::chrono::steady_clock::now() + 100ms);
    stopped = true;
  }, asio::detached);
  run_until([&] { return stopped; });
  EXPECT_FALSE(finished);  // the jobs were still running at the deadline
  EXPECT_EQ(signalled, 3u);
  EXPECT_EQ(returned, 3u) << "stop() returns after the signalled jobs did";
  EXPECT_EQ(sync_.llen(Keys().processing(Lane::default_lane(), "pod-1")), 0);
  EXPECT_EQ(sync_.lrange(Keys().lane(Lane::default_lane()).queue).size(), 3u);
}

}  // namespace
}  // namespace pushgw::queue
