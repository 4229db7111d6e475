#pragma once
// The interface every delivery provider implements (APNs and FCM today; live web sessions,
// Web Push and the rest later). The dispatcher, the app and `pushgw send` know providers only
// through it.
//
//   prepare(n)                  once per notification, no I/O, any thread: what the sends of
//                               all its tokens share (payload, headers, credentials)
//   async_send(prepared, token, completion)
//                               one token; the outcome (never an exception) to `completion`:
//                               a plain callback (the dispatcher's fan-out: no coroutine frame
//                               per token), asio::use_awaitable, or any other completion token
//   health(), pool_stats()      for /readyz and /metrics, from any thread
//
// async_send is the one send operation, an Asio initiating function written once (as
// Boost.Redis's async_exec): the initiation hops onto executor() when the caller is elsewhere,
// the provider's send() runs there, and the outcome goes to the completion handler's own
// executor (at once when that is executor(), as for a plain callback).

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include "pushgw/h2/pool.hpp"
#include "pushgw/job/notification.hpp"
#include "pushgw/job/outcome.hpp"
#include "pushgw/provider/health.hpp"

namespace pushgw::provider {

// What one notification's sends share; each provider derives its own.
struct Prepared {
  virtual ~Prepared() = default;
};

// Receives one send's outcome, exactly once, on the provider's executor. Must not throw.
using SendHandler = std::function<void(job::SendOutcome)>;

class Provider {
 public:
  virtual ~Provider() = default;

  virtual job::Platform platform() const = 0;
  virtual const std::string& app() const = 0;
  // "apns", "fcm": the prefix of its /readyz check ("apns:<app>").
  virtual std::string_view kind() const = 0;

  // Starts connecting. Returns false and sets *error when the configuration cannot work (a
  // malformed endpoint, an unreadable ca_file...); connection failures are retried in the
  // background and shown by health(), not errors here.
  virtual bool start(std::string* error) = 0;
  // Stops taking sends; in-flight ones may finish until `deadline`.
  virtual boost::asio::awaitable<void> stop(std::chrono::milliseconds deadline) = 0;

  virtual std::shared_ptr<const Prepared> prepare(const job::Notification& n) const = 0;

  // Sends the prepared notification to `token`; `token` is not referenced after this returns.
  template <class CompletionToken>
  auto async_send(std::shared_ptr<const Prepared> prepared, const std::string& token, CompletionToken&& completion) {
    return boost::asio::async_initiate<CompletionToken, void(job::SendOutcome)>(
        [this](auto handler, std::shared_ptr<const Prepared> prepared, const std::string* token) {
          start_send(std::move(prepared), *token, to_send_handler(std::move(handler)));
        },
        completion, std::move(prepared), &token);
  }

  // Where the provider's connections live; its sends run there.
  virtual boost::asio::any_io_executor executor() const = 0;
  virtual Health health() const = 0;
  virtual h2::PoolStats pool_stats() const = 0;

 protected:
  // One send, on executor(): `done` gets the outcome exactly once, on executor(), possibly
  // before send() returns. `token` is not referenced after send() returns.
  virtual void send(std::shared_ptr<const Prepared> prepared, const std::string& token, SendHandler done) = 0;

 private:
  // A handler whose executor is ours (a plain callback) is called directly; any other (a
  // coroutine's) gets the outcome dispatched to its own executor.
  template <class Handler>
  SendHandler to_send_handler(Handler handler) {
    auto target = boost::asio::get_associated_executor(handler, executor());
    if constexpr (std::is_copy_constructible_v<Handler> &&
                  std::is_same_v<decltype(target), boost::asio::any_io_executor>) {
      if (target == executor()) return SendHandler(std::move(handler));
    }
    // Move-only handlers (a coroutine's) are kept behind a shared_ptr: SendHandler copies.
    auto held = std::make_shared<Handler>(std::move(handler));
    return [held, target](job::SendOutcome outcome) {
      boost::asio::dispatch(target, [held, outcome = std::move(outcome)]() mutable { std::move(*held)(std::move(outcome)); });
    };
  }

  // send() on executor(): at once when the caller runs there, else posted (with a copy of the
  // token, which the caller may drop as soon as async_send returns).
  void start_send(std::shared_ptr<const Prepared> prepared, const std::string& token, SendHandler done) {
    if (running_on_executor()) {
      send(std::move(prepared), token, std::move(done));
      return;
    }
    boost::asio::post(executor(), [this, prepared = std::move(prepared), token, done = std::move(done)]() mutable {
      send(std::move(prepared), token, std::move(done));
    });
  }

  bool running_on_executor() const {
    const auto ex = executor();
    if (const auto* io = ex.target<boost::asio::io_context::executor_type>()) return io->running_in_this_thread();
    return false;  // another kind of executor: post, which is always correct
  }
};

}  // namespace pushgw::provider
