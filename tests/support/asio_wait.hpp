#pragma once
// Waiting for a condition in Asio tests, never for a fixed time (see support/eventually.hpp):
// run a coroutine to completion, run an io_context until a condition holds, or poll a
// condition from inside a coroutine. The limits only turn a hang into a failure.

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <future>
#include <stdexcept>
#include <string>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>

// ASSERT_* cannot be used in a coroutine (it `return`s); this one `co_return`s.
#define CO_ASSERT(condition)                            \
  do {                                                  \
    if (!(condition)) {                                 \
      ADD_FAILURE() << "assertion failed: " #condition; \
      co_return;                                        \
    }                                                   \
  } while (false)

namespace pushgw::test {

// Runs `io` one handler at a time until `condition` holds (other work on `io`, e.g. a client's
// own coroutines, runs meanwhile, and may never finish); false when `limit` passed first.
template <class Condition>
bool run_until(boost::asio::io_context& io, Condition&& condition,
               std::chrono::milliseconds limit = std::chrono::seconds(60)) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > until) return false;
    io.restart();  // it may have run out of work (or been stopped) before
    io.run_one_for(std::chrono::milliseconds(50));
  }
  return true;
}

// Runs `task` on `io` until it completes and returns its result (or rethrows its exception).
// Fails the test and throws when it has not completed within `limit`.
template <class T>
T run_until_done(boost::asio::io_context& io, boost::asio::awaitable<T> task,
                 std::chrono::milliseconds limit = std::chrono::seconds(120)) {
  auto future = boost::asio::co_spawn(io, std::move(task), boost::asio::use_future);
  if (!run_until(io, [&] { return future.wait_for(std::chrono::seconds(0)) == std::future_status::ready; }, limit)) {
    ADD_FAILURE() << "the test coroutine did not finish within " << limit.count() << " ms";
    throw std::runtime_error("test coroutine timed out");
  }
  return future.get();
}

// From inside a coroutine: polls `condition` (letting the executor's other work run) until it
// holds; false when `limit` passed first.
inline boost::asio::awaitable<bool> eventually_async(std::function<bool()> condition,
                                                     std::chrono::milliseconds limit = std::chrono::seconds(60)) {
  boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor);
  const auto until = std::chrono::steady_clock::now() + limit;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > until) co_return false;
    timer.expires_after(std::chrono::milliseconds(5));
    co_await timer.async_wait(boost::asio::use_awaitable);
  }
  co_return true;
}

}  // namespace pushgw::test
