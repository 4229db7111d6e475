#pragma once
// The interface every delivery provider implements (APNs and FCM today; live web sessions,
// Web Push and the rest later). The dispatcher, the app and `pushgw send` know providers only
// through it.
//
//   prepare(n)                  once per notification, no I/O, any thread: what the sends of
//                               all its tokens share (payload, headers, credentials)
//   async_send(permit, prepared, token, completion)
//                               one token, holding one of send_permits() (the pool's
//                               max_inflight); the outcome (never an exception) to `completion`:
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

#include "pushgw/common/async.hpp"
#include "pushgw/common/completion.hpp"
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
  // What every provider is: where its connections live (its sends run there), its platform,
  // its kind ("apns", "fcm": the prefix of its /readyz check "apns:<app>") and its app.
  Provider(boost::asio::any_io_executor executor, job::Platform platform, std::string_view kind, std::string app)
      : executor_(std::move(executor)), platform_(platform), kind_(kind), app_(std::move(app)) {}
  virtual ~Provider() = default;
  Provider(const Provider&) = delete;
  Provider& operator=(const Provider&) = delete;

  const boost::asio::any_io_executor& executor() const { return executor_; }
  job::Platform platform() const { return platform_; }
  std::string_view kind() const { return kind_; }
  const std::string& app() const { return app_; }

  // Starts connecting. Returns false and sets *error when the configuration cannot work (a
  // malformed endpoint, an unreadable ca_file...); connection failures are retried in the
  // background and shown by health(), not errors here.
  virtual bool start(std::string* error) = 0;
  // Stops taking sends; in-flight ones may finish until `deadline`. By default: stops the pool.
  virtual boost::asio::awaitable<void> stop(std::chrono::milliseconds deadline);

  virtual std::shared_ptr<const Prepared> prepare(const job::Notification& n) const = 0;

  // The permits that bound this provider's sends in flight (max_inflight, owned by its
  // connection pool), on executor(); nullptr before start(). A caller that starts many sends
  // (the dispatcher's fan-out) takes permits here itself, waiting once rather than per send,
  // and passes one with each. By default: the pool's.
  virtual common::Semaphore* send_permits() { return pool_ ? &pool_->permits() : nullptr; }

  // Sends the prepared notification to `token` with `permit` (one of send_permits(); empty:
  // the send waits for one, oldest first). `token` is read when the operation starts (at once
  // with a callback, at the co_await with use_awaitable) and not referenced after that.
  template <class CompletionToken>
  auto async_send(common::Permit permit, std::shared_ptr<const Prepared> prepared, const std::string& token,
                  CompletionToken&& completion) {
    return boost::asio::async_initiate<CompletionToken, void(job::SendOutcome)>(
        [this](auto handler, common::Permit permit, std::shared_ptr<const Prepared> prepared, const std::string* token) {
          start_send(std::move(permit), std::move(prepared), *token,
                     common::report_to<job::SendOutcome>(std::move(handler), executor()));
        },
        completion, std::move(permit), std::move(prepared), &token);
  }

  virtual Health health() const = 0;
  // By default: the pool's (none before start()).
  virtual h2::PoolStats pool_stats() const { return pool_ ? pool_->stats() : h2::PoolStats{}; }

 protected:
  // For a provider whose sends go over HTTP/2 (APNs, FCM): creates and starts its pool on
  // executor(), which stop(), send_permits() and pool_stats() then use. Null with *error set
  // when the pool cannot start (a malformed endpoint, an unreadable ca_file).
  std::shared_ptr<h2::Pool> start_pool(h2::PoolConfig config, std::string* error);
  const h2::Pool* pool() const { return pool_.get(); }

  // One send, on executor(): `done` gets the outcome exactly once, on executor(), possibly
  // before send() returns. `token` is not referenced after send() returns.
  virtual void send(common::Permit permit, std::shared_ptr<const Prepared> prepared, const std::string& token,
                    SendHandler done) = 0;

 private:
  boost::asio::any_io_executor executor_;
  job::Platform platform_;
  std::string_view kind_;  // a literal
  std::string app_;
  std::shared_ptr<h2::Pool> pool_;  // set by start_pool()

  // send() on executor(): at once when the caller runs there, else posted (with a copy of the
  // token, which the caller may drop once the operation has started).
  void start_send(common::Permit permit, std::shared_ptr<const Prepared> prepared, const std::string& token,
                  SendHandler done) {
    if (common::running_in(executor())) {
      send(std::move(permit), std::move(prepared), token, std::move(done));
      return;
    }
    boost::asio::post(executor(), [this, permit = std::move(permit), prepared = std::move(prepared), token,
                                   done = std::move(done)]() mutable {
      send(std::move(permit), std::move(prepared), token, std::move(done));
    });
  }
};

}  // namespace pushgw::provider
