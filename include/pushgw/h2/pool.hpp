#pragma once
// A fixed number of HTTP/2 connections to one endpoint. Requests go to the ready connection
// with the fewest in flight; max_inflight permits, owned here and nowhere else, bound the
// requests in flight over the whole pool (more wait in order, without a coroutine each), and a
// request waits up to connect_timeout for a ready connection. Closed connections are
// re-established in the background with exponential backoff and jitter. A request that
// fails with not_processed (it never reached the server) is resent on another connection,
// at most max_not_processed_retries times.
//
// Threading: as Connection — the pool and its connections live on one executor (a strand if
// several threads run the io_context); async_request() may be called from any executor,
// stats() from any thread.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "pushgw/common/async.hpp"
#include "pushgw/h2/connection.hpp"

namespace pushgw::h2 {

struct PoolConfig {
  ConnectionConfig connection;
  std::size_t connections = 4;            // connections kept open
  std::size_t max_inflight = 1000;        // requests in flight over all connections
  milliseconds reconnect_min{100};        // first reconnect delay, doubling...
  milliseconds reconnect_max{30000};      // ...up to this, each with ±25% jitter
  std::size_t max_not_processed_retries = 3;
};

struct PoolStats {
  std::size_t connecting = 0;    // connecting or waiting to reconnect
  std::size_t ready = 0;
  std::size_t draining = 0;      // includes connections retired after GOAWAY, still finishing
  std::size_t closed = 0;        // 0 unless the pool is stopped
  std::size_t in_flight = 0;     // requests holding a permit
  std::size_t waiting = 0;       // requests waiting for a permit (in the pool) or a ready connection
  std::uint64_t reconnects = 0;  // connections (re)established after the first one per slot
  // While no connection is ready: why the latest attempt failed (TLS verification, DNS,
  // refused, timeout...); "" when one is ready or no attempt has failed yet.
  std::string connect_problem;
};

// For a provider's health: "cannot connect to <host:port>: <why>" while the pool has no ready
// connection and its latest attempt failed, else "".
std::string connection_problem(const PoolStats& stats, const PoolConfig& config);

class Pool {
 public:
  Pool(boost::asio::any_io_executor executor, PoolConfig config);
  ~Pool();  // as stop() with no deadline
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  // Builds the TLS context and starts connecting every connection. Returns false and sets
  // *error (naming the file or setting) when the configuration cannot work, e.g. an
  // unreadable ca_file. Connection failures are not errors here: they are retried.
  bool start(std::string* error = nullptr);

  // Graceful: new requests fail with error::closed; in-flight ones may finish until
  // `deadline`; then every connection is closed (remaining requests fail).
  boost::asio::awaitable<void> stop(milliseconds deadline);

  // max_inflight: every request holds one of these permits from its send to its result. A
  // caller that starts many requests (the dispatcher's fan-out) takes them here itself — at
  // once with try_acquire(), or waiting once with acquire_or_queue() — and passes each to
  // async_request; on the pool's executor.
  common::Semaphore& permits();

  // Sends one request with `permit` (one of permits(); empty: the request waits here for one,
  // oldest first): waits for a ready connection (up to connect_timeout; then no_connection,
  // or the last connection error), sends, completes with the response, and gives the permit
  // back. The one request operation, an Asio initiating function like
  // Connection::async_request: a plain callback (the providers' sends: no coroutine frame),
  // asio::use_awaitable, or any other completion token. A plain callback runs on the pool's
  // executor, never inside async_request. After stop(), requests fail with error::closed.
  template <class CompletionToken>
  auto async_request(common::Permit permit, Request request, CompletionToken&& completion) {
    return boost::asio::async_initiate<CompletionToken, void(Result)>(
        [this](auto handler, common::Permit permit, Request request) {
          start_request(std::move(permit), std::move(request),
                        common::report_to<Result>(std::move(handler), executor()));
        },
        completion, std::move(permit), std::move(request));
  }

  PoolStats stats() const;
  const PoolConfig& config() const;
  const boost::asio::any_io_executor& executor() const;

 private:
  void start_request(common::Permit permit, Request request, ResultHandler done);

  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace pushgw::h2
