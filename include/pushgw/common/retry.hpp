#pragma once
// Retrying a Redis step until it succeeds, written once: the job handler's steps (idempotency
// claim, inactive-token lookup, marking dead tokens, ack), putting jobs back at shutdown, and
// the start-up recovery all wait for Redis this way.

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/error_code.hpp>

#include "pushgw/common/backoff.hpp"

namespace pushgw::common {

// Awaits `step()` (an awaitable<error_code>) until it returns no error, sleeping `backoff`
// between tries. Before each sleep, `failed(ec, failures)` is told (to log once, say) and
// `give_up()` asked: when it answers true the last error is returned. `already` is the error
// of a first try the caller made itself (the hot path tries once without this coroutine).
// `wake`: a slot whose cancellation ends a sleep at once (a job's stop signal; give_up() then
// says why); the step itself is never cancelled halfway, so its outcome is always known.
template <class Step, class GiveUp, class Failed>
boost::asio::awaitable<boost::system::error_code> retry_until_done(Step step, Backoff backoff, GiveUp give_up,
                                                                   Failed failed,
                                                                   boost::system::error_code already = {},
                                                                   boost::asio::cancellation_slot wake = {}) {
  namespace asio = boost::asio;
  BackoffSequence delays(backoff);
  for (;;) {
    boost::system::error_code ec = std::exchange(already, {});
    if (!ec) {
      auto attempt = step();  // named: see GCC 12 and co_await temporaries
      ec = co_await std::move(attempt);
      if (!ec) co_return ec;
    }
    failed(ec, delays.failures() + 1);
    if (give_up()) co_return ec;
    asio::steady_timer timer(co_await asio::this_coro::executor, delays.next());
    co_await timer.async_wait(asio::bind_cancellation_slot(wake, asio::as_tuple(asio::use_awaitable)));
    if (give_up()) co_return ec;
  }
}

}  // namespace pushgw::common
