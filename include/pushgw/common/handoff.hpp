#pragma once
// Batched hand-off of work to another thread's executor (the dispatcher's hops between the
// main thread and a provider's send thread). Thread-safe: run() may be called from any thread.

#include <functional>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/post.hpp>

namespace pushgw::common {

// Hands work to another thread's executor in batches: the first piece queued posts one drain,
// and whatever is queued before that drain runs goes with it. Under load one wake-up of the
// other thread carries many notifications instead of one post (and eventfd wake-up) each.
class Handoff {
 public:
  explicit Handoff(boost::asio::any_io_executor target) : state_(std::make_shared<State>(std::move(target))) {}

  void run(std::function<void()> work) {
    {
      std::lock_guard lock(state_->mutex);
      state_->queued.push_back(std::move(work));
      if (state_->queued.size() > 1) return;  // a drain is already on its way
    }
    boost::asio::post(state_->target, [state = state_] { state->drain(); });
  }

 private:
  struct State {
    explicit State(boost::asio::any_io_executor t) : target(std::move(t)) {}
    void drain() {
      std::vector<std::function<void()>> batch;
      {
        std::lock_guard lock(mutex);
        batch.swap(queued);
      }
      for (auto& work : batch) work();
    }
    boost::asio::any_io_executor target;
    std::mutex mutex;
    std::vector<std::function<void()>> queued;
  };
  std::shared_ptr<State> state_;  // shared with the posted drain
};

}  // namespace pushgw::common
