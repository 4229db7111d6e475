#pragma once
// Coalesces calls to a remote service (Redis): items that arrive while a call for their key is
// in flight wait, and go together in that key's next call. Under load one round trip serves
// many callers; a lone caller goes at once, as before. Not thread-safe: use it from one
// executor, like the rest of common/.

#include <algorithm>
#include <cstddef>
#include <functional>
#include <iterator>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

namespace pushgw::common {

template <class Item>
class CallBatcher {
 public:
  // Makes one call for `items` (all of `key`) and completes every one of them. It must not
  // throw: an item it does not complete leaves its caller waiting.
  using Call = std::function<boost::asio::awaitable<void>(const std::string& key, std::vector<Item> items)>;
  // An item's share of a call's budget (1 each by default).
  using Weight = std::function<std::size_t(const Item&)>;

  // A call takes items oldest first while their weights fit `max_weight`, and at least one.
  CallBatcher(Call call, std::size_t max_weight, Weight weight = [](const Item&) { return std::size_t{1}; })
      : call_(std::move(call)), weight_(std::move(weight)), max_weight_(max_weight) {}

  CallBatcher(const CallBatcher&) = delete;
  CallBatcher& operator=(const CallBatcher&) = delete;

  // Queues `item`; starts a call on `executor` when none is in flight for `key`. The batcher
  // must outlive its calls.
  void add(const boost::asio::any_io_executor& executor, std::string_view key, Item item) {
    Batch& batch = batch_for(key);
    batch.queued.push_back(std::move(item));
    if (!batch.in_flight) start(executor, std::string(key));
  }

 private:
  struct Batch {
    std::vector<Item> queued;
    bool in_flight = false;
  };

  Batch& batch_for(std::string_view key) {
    auto it = batches_.find(key);
    if (it == batches_.end()) it = batches_.emplace(std::string(key), Batch{}).first;
    return it->second;
  }

  void start(const boost::asio::any_io_executor& executor, std::string key) {
    Batch& batch = batch_for(key);
    batch.in_flight = true;
    std::size_t n = 0;
    std::size_t total = 0;
    while (n < batch.queued.size()) {
      const std::size_t w = weight_(batch.queued[n]);
      if (n > 0 && total + w > max_weight_) break;
      total += w;
      ++n;
    }
    const auto end = batch.queued.begin() + static_cast<std::ptrdiff_t>(n);
    std::vector<Item> items(std::make_move_iterator(batch.queued.begin()), std::make_move_iterator(end));
    batch.queued.erase(batch.queued.begin(), end);
    boost::asio::co_spawn(executor, run(executor, std::move(key), std::move(items)), boost::asio::detached);
  }

  boost::asio::awaitable<void> run(boost::asio::any_io_executor executor, std::string key, std::vector<Item> items) {
    // A named awaitable: GCC 12 mishandles temporaries inside a co_await expression.
    auto call = call_(key, std::move(items));
    co_await std::move(call);
    Batch& batch = batch_for(key);
    if (batch.queued.empty()) {
      batch.in_flight = false;
    } else {
      start(executor, std::move(key));
    }
  }

  Call call_;
  Weight weight_;
  std::size_t max_weight_;
  std::map<std::string, Batch, std::less<>> batches_;
};

}  // namespace pushgw::common
