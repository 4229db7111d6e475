// common/handoff.hpp: work handed from one thread to another thread's io_context runs there,
// in order, one posted drain per batch, and work queued while a drain runs is not stranded.
// Two io_contexts on two threads; every wait is for a condition (a latch or a future).
#include "pushgw/common/handoff.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <string>
#include <future>
#include <latch>
#include <thread>
#include <vector>

#include <boost/asio.hpp>

namespace pushgw::common {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

// An io_context on a thread of its own that counts the handlers it runs: each drain of a
// Handoff is one handler, so the count says how many posts the hand-off made.
class CountingThread {
 public:
  CountingThread() : thread_([this] {
    while (io_.run_one() > 0) ++handlers_;
  }) {}
  ~CountingThread() { join(); }

  asio::any_io_executor executor() { return io_.get_executor(); }
  std::thread::id id() const { return thread_.get_id(); }
  // Lets the thread finish once nothing is left to run, and waits for it.
  void join() {
    guard_.reset();
    if (thread_.joinable()) thread_.join();
  }
  // Valid after join().
  std::size_t handlers() const { return handlers_; }

  // Posts a handler that keeps the thread busy until `open` counts down: a busy thread.
  void block_until(std::latch& open) {
    asio::post(io_, [&open] { open.wait(); });
  }

 private:
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> guard_ = asio::make_work_guard(io_);
  std::size_t handlers_ = 0;  // only touched by the thread, read after join()
  std::thread thread_;
};

// Runs `body` on a producer thread with an io_context of its own, and waits for it.
void on_producer_thread(std::function<void()> body) {
  asio::io_context producer;
  asio::post(producer, std::move(body));
  std::thread thread([&] { producer.run(); });
  thread.join();
}

TEST(Handoff, WorkRunsOnTheTargetThreadInTheOrderItWasHandedOver) {
  CountingThread target;
  Handoff handoff(target.executor());
  constexpr int kWorks = 1000;
  std::vector<int> ran;  // only touched on the target thread
  bool all_on_target = true;
  std::promise<void> last_ran;
  on_producer_thread([&] {
    for (int i = 0; i < kWorks; ++i) {
      handoff.run([&, i] {
        ran.push_back(i);
        all_on_target = all_on_target && std::this_thread::get_id() == target.id();
        if (i == kWorks - 1) last_ran.set_value();
      });
    }
  });
  ASSERT_EQ(last_ran.get_future().wait_for(60s), std::future_status::ready) << "a hang guard";
  target.join();
  std::vector<int> expected(kWorks);
  for (int i = 0; i < kWorks; ++i) expected[i] = i;
  EXPECT_EQ(ran, expected);
  EXPECT_TRUE(all_on_target);
}

TEST(Handoff, ABusyTargetIsWokenOnceForEverythingQueuedMeanwhile) {
  CountingThread target;
  Handoff handoff(target.executor());
  std::latch busy(1);
  target.block_until(busy);  // handler 1: the target is busy while the producer hands over
  int ran = 0;
  on_producer_thread([&] {
    for (int i = 0; i < 100; ++i) handoff.run([&] { ++ran; });
  });
  busy.count_down();
  target.join();
  EXPECT_EQ(ran, 100);
  EXPECT_EQ(target.handlers(), 2u) << "the busy handler and one drain; one post per work would make 101";
}

TEST(Handoff, WorkQueuedWhileADrainRunsGetsADrainOfItsOwn) {
  CountingThread target;
  Handoff handoff(target.executor());
  std::vector<std::string> ran;  // only touched on the target thread
  std::latch draining(1);
  std::latch queued_meanwhile(1);
  std::promise<void> all_ran;
  std::thread producer([&] {
    handoff.run([&] {
      ran.push_back("first");
      draining.count_down();
      queued_meanwhile.wait();  // the producer queues "second" while this drain runs
    });
    draining.wait();
    handoff.run([&] {
      ran.push_back("second");
      // Queued from inside a drain, on the target thread itself.
      handoff.run([&] {
        ran.push_back("third");
        all_ran.set_value();
      });
    });
    queued_meanwhile.count_down();
  });
  producer.join();
  ASSERT_EQ(all_ran.get_future().wait_for(60s), std::future_status::ready)
      << "work queued during a drain was stranded (a hang guard)";
  target.join();
  EXPECT_EQ(ran, (std::vector<std::string>{"first", "second", "third"}));
  EXPECT_EQ(target.handlers(), 3u) << "one drain for each piece: each was queued while the previous drain ran";
}

TEST(Handoff, WorkStillQueuedWhenTheHandoffIsDestroyedRuns) {
  // The drain shares the queue with the Handoff: destroying the Handoff (its owner going away)
  // does not drop what was already handed over.
  CountingThread target;
  std::latch busy(1);
  target.block_until(busy);
  int ran = 0;
  {
    Handoff handoff(target.executor());
    handoff.run([&] { ++ran; });
    handoff.run([&] { ++ran; });
  }
  busy.count_down();
  target.join();
  EXPECT_EQ(ran, 2);
}

}  // namespace
}  // namespace pushgw::common
