// common/async.hpp: the semaphore's order and weights, the wait group, await_callback (no I/O:
// one io_context, timers only).
#include "pushgw/common/async.hpp"

#include <gtest/gtest.h>

#include <boost/asio.hpp>

namespace pushgw::common {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

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
  io.run_for(50ms);
  EXPECT_EQ(order, (std::vector<std::string>{"three"}));
  EXPECT_FALSE(permits.try_acquire());  // others wait: no overtaking by try_acquire either

  permits.release(3);  // 4 free: "two" and "one" go, "ten" waits for all 4
  io.run_for(50ms);
  EXPECT_EQ(order, (std::vector<std::string>{"three", "two", "one"}));
  permits.release(2);
  io.run_for(50ms);
  EXPECT_EQ(order.size(), 3u);
  permits.release(1);
  io.run_for(50ms);
  EXPECT_EQ(order, (std::vector<std::string>{"three", "two", "one", "ten"}));
  permits.release(4);
  EXPECT_TRUE(permits.try_acquire());
}

TEST(Semaphore, QueuedCallbacksAndCoroutinesShareOneOrderAndCallbacksRunPosted) {
  asio::io_context io;
  Semaphore permits(io.get_executor(), 1);
  std::vector<std::string> order;
  auto turn = [&] {  // run what is ready; the loop may have run out of work before
    io.restart();
    io.run_for(20ms);
  };
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

TEST(AwaitCallback, ResumesWithTheValueEvenWhenDoneRunsInsideStart) {
  asio::io_context io;
  std::vector<int> got;
  asio::co_spawn(io, [&]() -> asio::awaitable<void> {
    got.push_back(co_await await_callback<int>([](auto done) { done(7); }));
    std::function<void(int)> later;
    asio::steady_timer t(io, 5ms);
    t.async_wait([&](auto) { later(9); });
    got.push_back(co_await await_callback<int>([&](auto done) { later = done; }));
  }, asio::detached);
  io.run_for(1s);
  EXPECT_EQ(got, (std::vector<int>{7, 9}));
}

}  // namespace
}  // namespace pushgw::common
