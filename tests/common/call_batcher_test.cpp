// CallBatcher: which items go together, per key, and in what order (no I/O: the "call" is a
// timer standing for a round trip).
#include "pushgw/common/call_batcher.hpp"

#include <gtest/gtest.h>

#include <boost/asio.hpp>

namespace pushgw::common {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

struct Item {
  int value;
  std::size_t weight = 1;
};

// Records each call as (key, values) and takes 5 ms to answer it.
struct Recorder {
  asio::io_context io;
  std::vector<std::pair<std::string, std::vector<int>>> calls;
  int completed = 0;

  CallBatcher<Item> make(std::size_t max_weight) {
    return CallBatcher<Item>(
        [this](const std::string& key, std::vector<Item> items) -> asio::awaitable<void> {
          std::vector<int> values;
          for (const auto& item : items) values.push_back(item.value);
          calls.emplace_back(key, values);
          asio::steady_timer round_trip(io, 5ms);
          co_await round_trip.async_wait(asio::use_awaitable);
          completed += static_cast<int>(items.size());
        },
        max_weight, [](const Item& item) { return item.weight; });
  }
};

TEST(CallBatcher, ItemsThatArriveDuringACallGoTogetherInTheNextUpToTheBudget) {
  Recorder r;
  auto batcher = r.make(2);
  for (int i = 1; i <= 5; ++i) batcher.add(r.io.get_executor(), "a", Item{i});
  r.io.run_for(2s);
  EXPECT_EQ(r.completed, 5);
  using Calls = std::vector<std::pair<std::string, std::vector<int>>>;
  // The first goes at once, alone; the rest wait for it, oldest first, two per call.
  EXPECT_EQ(r.calls, (Calls{{"a", {1}}, {"a", {2, 3}}, {"a", {4, 5}}}));
}

TEST(CallBatcher, KeysDoNotWaitForEachOther) {
  Recorder r;
  auto batcher = r.make(10);
  batcher.add(r.io.get_executor(), "a", Item{1});
  batcher.add(r.io.get_executor(), "b", Item{2});
  batcher.add(r.io.get_executor(), "a", Item{3});
  batcher.add(r.io.get_executor(), "b", Item{4});
  r.io.run_for(2s);
  using Calls = std::vector<std::pair<std::string, std::vector<int>>>;
  EXPECT_EQ(r.calls, (Calls{{"a", {1}}, {"b", {2}}, {"a", {3}}, {"b", {4}}}));
}

TEST(CallBatcher, AnItemHeavierThanTheBudgetStillGoesAlone) {
  Recorder r;
  auto batcher = r.make(10);
  batcher.add(r.io.get_executor(), "a", Item{1, 3});
  batcher.add(r.io.get_executor(), "a", Item{2, 4});
  batcher.add(r.io.get_executor(), "a", Item{3, 25});
  batcher.add(r.io.get_executor(), "a", Item{4, 6});
  batcher.add(r.io.get_executor(), "a", Item{5, 4});
  r.io.run_for(2s);
  EXPECT_EQ(r.completed, 5);
  using Calls = std::vector<std::pair<std::string, std::vector<int>>>;
  EXPECT_EQ(r.calls, (Calls{{"a", {1}}, {"a", {2}}, {"a", {3}}, {"a", {4, 5}}}));
}

TEST(CallBatcher, AfterTheQueueEmptiesTheNextItemGoesAtOnce) {
  Recorder r;
  auto batcher = r.make(10);
  batcher.add(r.io.get_executor(), "a", Item{1});
  r.io.run_for(100ms);
  ASSERT_EQ(r.completed, 1);
  r.io.restart();
  batcher.add(r.io.get_executor(), "a", Item{2});
  // Started inside add(): the call is recorded on the first turn of the loop.
  r.io.poll_one();
  using Calls = std::vector<std::pair<std::string, std::vector<int>>>;
  EXPECT_EQ(r.calls, (Calls{{"a", {1}}, {"a", {2}}}));
  r.io.run_for(100ms);
  EXPECT_EQ(r.completed, 2);
}

}  // namespace
}  // namespace pushgw::common
