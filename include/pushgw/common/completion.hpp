#pragma once
// What every initiating function of ours needs (h2::Connection::async_request,
// h2::Pool::async_request, provider::Provider::async_send), written once: an operation runs on
// the executor that owns its state ("home") and reports through a std::function; the
// completion handler — a plain callback, asio::use_awaitable's, or any other — gets the result
// on its own associated executor.

#include <functional>
#include <memory>
#include <type_traits>
#include <utility>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>

namespace pushgw::common {

// True when the calling thread runs `executor`'s io_context (then state living there may be
// touched at once). False for other kinds of executors (a strand): posting is always correct.
inline bool running_in(const boost::asio::any_io_executor& executor) {
  if (const auto* io = executor.target<boost::asio::io_context::executor_type>()) return io->running_in_this_thread();
  return false;
}

// The operation's report function for completion handler `handler`, called on `home`. A
// handler whose executor is `home` (a plain callback) is called directly, with no allocation
// beyond std::function's; any other (a coroutine's) gets the result dispatched to its own
// executor.
template <class T, class Handler>
std::function<void(T)> report_to(Handler handler, const boost::asio::any_io_executor& home) {
  auto target = boost::asio::get_associated_executor(handler, home);
  if constexpr (std::is_copy_constructible_v<Handler> &&
                std::is_same_v<decltype(target), boost::asio::any_io_executor>) {
    if (target == home) return std::function<void(T)>(std::move(handler));
  }
  // Move-only handlers (a coroutine's) are kept behind a shared_ptr: std::function copies.
  auto held = std::make_shared<Handler>(std::move(handler));
  return [held, target](T result) {
    boost::asio::dispatch(target, [held, result = std::move(result)]() mutable { std::move(*held)(std::move(result)); });
  };
}

}  // namespace pushgw::common
