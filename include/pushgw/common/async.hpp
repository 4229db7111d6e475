#pragma once
// Small coroutine synchronisation tools for code that runs on one executor (a strand or a
// single-threaded io_context): neither is thread-safe. A waiter parks on a steady_timer that
// never expires by itself; waking it means cancelling the timer.

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace pushgw::common {

// Counts running tasks; wait() returns when the count is zero (or at the deadline).
class WaitGroup {
 public:
  explicit WaitGroup(boost::asio::any_io_executor executor) : executor_(std::move(executor)) {}
  void add(std::size_t n = 1) { count_ += n; }
  void done(std::size_t n = 1) {
    count_ -= n;
    if (count_ == 0) {
      for (auto* waiter : waiters_) waiter->cancel();
    }
  }
  std::size_t count() const { return count_; }

  // True when the count reached zero, false when `deadline` passed first. Each waiter sleeps
  // on a timer of its own until its deadline, woken by the done() that reaches zero (a shared
  // timer made waiters cancel each other's waits and spin).
  boost::asio::awaitable<bool> wait(std::chrono::steady_clock::time_point deadline =
                                        std::chrono::steady_clock::time_point::max()) {
    if (count_ == 0) co_return true;
    boost::asio::steady_timer timer(executor_, deadline);
    waiters_.push_back(&timer);
    while (count_ > 0 && std::chrono::steady_clock::now() < deadline) {
      co_await timer.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
    }
    waiters_.erase(std::find(waiters_.begin(), waiters_.end(), &timer));
    co_return count_ == 0;
  }

 private:
  boost::asio::any_io_executor executor_;
  std::vector<boost::asio::steady_timer*> waiters_;
  std::size_t count_ = 0;
};

class Semaphore;

// One permit of a Semaphore as an object: given back when destroyed, unless its new owner took
// it over with detach() (and gives it back itself). Move-only; on the semaphore's executor.
class Permit {
 public:
  Permit() = default;
  Permit(Permit&& other) noexcept : owner_(std::exchange(other.owner_, nullptr)) {}
  Permit& operator=(Permit&& other) noexcept {
    if (this != &other) {
      reset();
      owner_ = std::exchange(other.owner_, nullptr);
    }
    return *this;
  }
  Permit(const Permit&) = delete;
  Permit& operator=(const Permit&) = delete;
  ~Permit() { reset(); }

  explicit operator bool() const { return owner_ != nullptr; }
  bool of(const Semaphore& semaphore) const { return owner_ == &semaphore; }
  inline void reset();
  // The permit is now the caller's to release(); this object holds nothing.
  void detach() { owner_ = nullptr; }

 private:
  friend class Semaphore;
  explicit Permit(Semaphore* owner) : owner_(owner) {}
  Semaphore* owner_ = nullptr;
};

// A counting semaphore with FIFO waiters: acquire(n) waits for n permits, release(n) hands
// them to the waiters in order (the oldest first; a later one never overtakes it). Asking for
// more than the semaphore was made with waits for all of them.
class Semaphore {
 public:
  Semaphore(boost::asio::any_io_executor executor, std::size_t permits)
      : executor_(std::move(executor)), capacity_(permits), available_(permits) {}

  // A permit if one is free and nobody waits; no coroutine frame (the hot path of a fan-out).
  bool try_acquire() {
    if (available_ == 0 || !waiters_.empty()) return false;
    --available_;
    return true;
  }

  // A permit now (true), or `granted` queued to run, posted on the semaphore's executor, once
  // a permit is handed to it (false): waiting without a coroutine frame per waiter.
  bool acquire_or_queue(std::function<void()> granted) {
    if (try_acquire()) return true;
    waiters_.push_back(Waiter{1, std::move(granted), true});
    return false;
  }

  // Waits for min(n, permits it was made with); returns that number, for release().
  boost::asio::awaitable<std::size_t> acquire(std::size_t n = 1) {
    n = std::min(n, capacity_);
    if (available_ >= n && waiters_.empty()) {
      available_ -= n;
      co_return n;
    }
    struct Wake {
      explicit Wake(const boost::asio::any_io_executor& executor)
          : timer(executor, boost::asio::steady_timer::time_point::max()) {}
      boost::asio::steady_timer timer;
      bool granted = false;
    };
    auto wake = std::make_shared<Wake>(executor_);
    waiters_.push_back(Waiter{n, [wake] {
                                wake->granted = true;
                                wake->timer.cancel();
                              },
                              false});
    while (!wake->granted) {
      co_await wake->timer.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
    }
    co_return n;
  }

  void release(std::size_t n = 1) {
    available_ += n;
    while (!waiters_.empty() && waiters_.front().need <= available_) {
      Waiter waiter = std::move(waiters_.front());
      waiters_.pop_front();
      available_ -= waiter.need;
      if (waiter.posted) {
        boost::asio::post(executor_, std::move(waiter.grant));
      } else {
        waiter.grant();
      }
    }
  }

  // One permit taken with try_acquire(), acquire(1) or handed to acquire_or_queue()'s
  // callback, as an object to pass along with the work it allows.
  Permit adopt() { return Permit(this); }
  std::size_t capacity() const { return capacity_; }
  std::size_t in_use() const { return capacity_ - available_; }

 private:
  struct Waiter {
    std::size_t need;
    std::function<void()> grant;  // wakes a coroutine (run here), or a callback (posted)
    bool posted;
  };
  boost::asio::any_io_executor executor_;
  std::size_t capacity_;
  std::size_t available_;
  std::deque<Waiter> waiters_;
};

void Permit::reset() {
  if (owner_) std::exchange(owner_, nullptr)->release();
}

// Awaits a callback-style operation from a coroutine: `start(done)` begins it, and the operation
// calls done(T) exactly once, on this coroutine's executor (inside start() is fine). The
// coroutine's completion handler is shared with `done`, so an operation that completes after
// the coroutine is gone is harmless. The result is posted to the executor, never resumed from
// inside the operation. (This used to park the coroutine on a timer that `done` cancelled: a
// timer in the io_context's heap per awaited operation, with jobs awaiting three each.)
template <class T, class Start>
boost::asio::awaitable<T> await_callback(Start start) {
  auto initiate = [&start](auto handler) {
    using Handler = decltype(handler);
    auto pending = std::make_shared<std::optional<Handler>>(std::move(handler));
    start([pending](T value) {
      if (!pending->has_value()) return;  // called twice: ignored
      Handler resume = std::move(**pending);
      pending->reset();
      const auto executor = boost::asio::get_associated_executor(resume);
      boost::asio::post(executor, [resume = std::move(resume), value = std::move(value)]() mutable {
        std::move(resume)(std::move(value));
      });
    });
  };
  // as_tuple: with use_awaitable alone an error_code or exception_ptr T would be thrown.
  // Named: see GCC 12 and co_await temporaries (coroutine_warnings.hpp).
  constexpr auto token = boost::asio::as_tuple(boost::asio::use_awaitable);
  auto operation = boost::asio::async_initiate<decltype(token), void(T)>(initiate, token);
  auto [value] = co_await std::move(operation);
  co_return std::move(value);
}

}  // namespace pushgw::common
