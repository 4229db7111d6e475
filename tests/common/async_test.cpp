// common/async.hpp: the semaphore's order and weights, the wait group, await_callback (no I/O:
// one io_context). Each step runs what is ready (poll) and looks at the result: nothing waits
// for time to pass, except the wait group's deadline, which is what it is about.
#include "pushgw/common/async.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include <boost/asio.hpp>

namespace pushgw::common {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

// Runs every handler that is ready, including those they make ready, and returns: waiters
// parked on timers that never expire by themselves do not keep it running.
void run_ready(asio::io_context& io) {
  io.restart();
  io.poll();
}

TEST(Semaphore, WaitersAreServedInOrderAndALaterSmallOneNeverOvertakes) {
  asio::io_context io;
  Semaphore permits(io.get_executor(), 4);
  std::vector<std::string> order;
  auto take = [&](std::string name, std::size_t n, std::size_t expect_granted) {
    asio::co_spawn(io, [&, name, n, expect_granted]() -> asio::awaitable<void> {
      const std::size_t granted = co_await permits.acquire(n);
      EXPECT_EQ(granted, expect_granted) << name;
      order.push_back(name);
    }, asio::detached);
  };
  take("three", 3, 3);
  take("two", 2, 2);    // waits: 1 left
  take("one", 1, 1);    // 1 is free, but "two" came first
  take("ten", 10, 4);   // more than the semaphore holds: waits for all 4
  run_ready(io);
  EXPECT_EQ(order, (std::vector<std::string>{"three"}));
  EXPECT_FALSE(permits.try_acquire());  // others wait: no overtaking by try_acquire either

  permits.release(3);  // 4 free: "two" and "one" go, "ten" waits for all 4
  run_ready(io);
  EXPECT_EQ(order, (std::vector<std::string>{"three", "two", "one"}));
  permits.release(2);
  run_ready(io);
  EXPECT_EQ(order.size(), 3u);
  permits.release(1);
  run_ready(io);
  EXPECT_EQ(order, (std::vector<std::string>{"three", "two", "one", "ten"}));
  permits.release(4);
  EXPECT_TRUE(permits.try_acquire());
}

TEST(Semaphore, QueuedCallbacksAndCoroutinesShareOneOrderAndCallbacksRunPosted) {
  asio::io_context io;
  Semaphore permits(io.get_executor(), 1);
  std::vector<std::string> order;
  auto turn = [&] { run_ready(io); };
  EXPECT_TRUE(permits.acquire_or_queue([&] { order.push_back("never: it had the permit at once"); }));
  EXPECT_FALSE(permits.acquire_or_queue([&] { order.push_back("callback-1"); }));
  asio::co_spawn(io, [&]() -> asio::awaitable<void> {
    co_await permits.acquire();
    order.push_back("coroutine");
  }, asio::detached);
  turn();
  EXPECT_FALSE(permits.acquire_or_queue([&] { order.push_back("callback-2"); }));
  EXPECT_TRUE(order.empty());
  permits.release();  // to callback-1, run later from the event loop, not inside release()
  EXPECT_TRUE(order.empty());
  turn();
  EXPECT_EQ(order, (std::vector<std::string>{"callback-1"}));
  permits.release();
  turn();
  permits.release();
  turn();
  EXPECT_EQ(order, (std::vector<std::string>{"callback-1", "coroutine", "callback-2"}));
  EXPECT_FALSE(permits.try_acquire());  // callback-2 holds the only permit
}

TEST(Permit, GivesItsPermitBackOnceWhenDestroyedMovedFromOrDetached) {
  asio::io_context io;
  Semaphore permits(io.get_executor(), 2);
  Semaphore other(io.get_executor(), 1);
  {
    ASSERT_TRUE(permits.try_acquire());
    Permit first = permits.adopt();
    EXPECT_TRUE(first);
    EXPECT_TRUE(first.of(permits));
    EXPECT_FALSE(first.of(other));
    Permit moved = std::move(first);
    EXPECT_FALSE(first);  // NOLINT(bugprone-use-after-move): moved-from holds nothing
    EXPECT_EQ(permits.in_use(), 1u);
    ASSERT_TRUE(permits.try_acquire());
    Permit second = permits.adopt();
    moved = std::move(second);  // the one `moved` held goes back now
    EXPECT_EQ(permits.in_use(), 1u);
  }
  EXPECT_EQ(permits.in_use(), 0u);  // and the other at the end of the scope
  ASSERT_TRUE(permits.try_acquire());
  Permit detached = permits.adopt();
  detached.detach();  // its new owner gives it back itself
  detached.reset();
  EXPECT_EQ(permits.in_use(), 1u);
  permits.release();
  EXPECT_EQ(permits.in_use(), 0u);
  EXPECT_FALSE(Permit());
}

TEST(AwaitCallback, ResumesWithTheValueEvenWhenDoneRunsInsideStart) {
  asio::io_context io;
  std::vector<int> got;
  asio::co_spawn(io, [&]() -> asio::awaitable<void> {
    got.push_back(co_await await_callback<int>([](auto done) { done(7); }));
    // done() called later from the event loop, after start() has returned.
    got.push_back(co_await await_callback<int>([&](auto done) { asio::post(io, [done] { done(9); }); }));
  }, asio::detached);
  io.run();  // returns once nothing is left: the coroutine finished, or waits for nothing
  EXPECT_EQ(got, (std::vector<int>{7, 9}));
}

TEST(AwaitCallback, ASecondCallOfDoneIsIgnored) {
  asio::io_context io;
  std::vector<int> got;
  asio::co_spawn(io, [&]() -> asio::awaitable<void> {
    got.push_back(co_await await_callback<int>([](auto done) {
      done(1);
      done(2);
    }));
  }, asio::detached);
  io.run();
  EXPECT_EQ(got, (std::vector<int>{1}));
}

TEST(WaitGroup, WaitReturnsTrueOnceTheLastTaskIsDone) {
  asio::io_context io;
  WaitGroup tasks(io.get_executor());
  tasks.add(2);
  tasks.add();
  EXPECT_EQ(tasks.count(), 3u);
  std::optional<bool> waited;
  asio::co_spawn(io, [&]() -> asio::awaitable<void> { waited = co_await tasks.wait(); }, asio::detached);
  run_ready(io);
  EXPECT_FALSE(waited.has_value());  // three tasks still running
  tasks.done(2);
  run_ready(io);
  EXPECT_FALSE(waited.has_value());  // one left
  EXPECT_EQ(tasks.count(), 1u);
  tasks.done();
  run_ready(io);
  ASSERT_TRUE(waited.has_value()) << "done() to zero did not wake the waiter";
  EXPECT_TRUE(*waited);
  EXPECT_EQ(tasks.count(), 0u);
}

TEST(WaitGroup, WaitWithNothingRunningReturnsAtOnce) {
  asio::io_context io;
  WaitGroup tasks(io.get_executor());
  std::optional<bool> waited;
  // An expired deadline too: with nothing running there is nothing to wait for.
  asio::co_spawn(io, [&]() -> asio::awaitable<void> {
    waited = co_await tasks.wait(std::chrono::steady_clock::now() - 1s);
  }, asio::detached);
  run_ready(io);
  ASSERT_TRUE(waited.has_value());
  EXPECT_TRUE(*waited);
}

// Runs at most `limit` ready handlers; returns how many ran.
std::size_t run_ready_at_most(asio::io_context& io, std::size_t limit) {
  io.restart();
  std::size_t ran = 0;
  while (ran < limit && io.poll_one() > 0) ++ran;
  return ran;
}

TEST(WaitGroup, EveryWaiterWakesWhenTheCountReachesZero) {
  asio::io_context io;
  WaitGroup tasks(io.get_executor());
  tasks.add();
  int woken = 0;
  for (int i = 0; i < 3; ++i) {
    asio::co_spawn(io, [&]() -> asio::awaitable<void> {
      if (co_await tasks.wait()) ++woken;
    }, asio::detached);
  }
  // Bounded: parked waiters of one group keep re-arming the shared timer (see the disabled
  // test below), so "run until nothing is ready" would not return.
  run_ready_at_most(io, 100);
  EXPECT_EQ(woken, 0);
  tasks.done();
  run_ready_at_most(io, 100);
  EXPECT_EQ(woken, 3);
}

// With one shared timer, each waiter's expires_at() cancelled the others' pending wait, so two
// parked waiters woke each other in turn and spun (100% CPU) until the count reached zero.
TEST(WaitGroup, ParkedWaitersDoNotSpin) {
  asio::io_context io;
  WaitGroup tasks(io.get_executor());
  tasks.add();
  for (int i = 0; i < 2; ++i) {
    asio::co_spawn(io, [&]() -> asio::awaitable<void> { co_await tasks.wait(); }, asio::detached);
  }
  run_ready_at_most(io, 100);  // both parked
  EXPECT_LT(run_ready_at_most(io, 100), 10u) << "parked waiters keep running handlers";
  tasks.done();
  run_ready_at_most(io, 100);
}

TEST(WaitGroup, ADeadlineEndsTheWaitWithFalseAndDoesNotHoldUpALaterWaiter) {
  asio::io_context io;
  WaitGroup tasks(io.get_executor());
  tasks.add();
  const auto deadline = std::chrono::steady_clock::now() + 20ms;
  std::optional<bool> short_wait, long_wait;
  std::chrono::steady_clock::time_point short_returned;
  asio::co_spawn(io, [&]() -> asio::awaitable<void> {
    short_wait = co_await tasks.wait(deadline);
    short_returned = std::chrono::steady_clock::now();
  }, asio::detached);
  asio::co_spawn(io, [&]() -> asio::awaitable<void> { long_wait = co_await tasks.wait(); }, asio::detached);
  // The wait group's own timers are the only work: run one handler at a time until the
  // short wait has given up (the limit is a hang guard).
  const auto give_up = std::chrono::steady_clock::now() + 60s;
  while (!short_wait && std::chrono::steady_clock::now() < give_up) io.run_one_for(1s);
  ASSERT_TRUE(short_wait.has_value()) << "the deadline never ended the wait";
  EXPECT_FALSE(*short_wait);
  EXPECT_GE(short_returned, deadline) << "gave up before its deadline";
  EXPECT_FALSE(long_wait.has_value()) << "the task is still running";
  EXPECT_EQ(tasks.count(), 1u);

  tasks.done();
  while (!long_wait && std::chrono::steady_clock::now() < give_up) io.run_one_for(1s);
  ASSERT_TRUE(long_wait.has_value());
  EXPECT_TRUE(*long_wait);
}

}  // namespace
}  // namespace pushgw::common
