#include "pushgw/h2/pool.hpp"

#include <algorithm>
#include <atomic>
#include <deque>
#include <list>
#include <utility>
#include <mutex>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <spdlog/spdlog.h>

#include "pushgw/common/async.hpp"
#include "pushgw/common/backoff.hpp"
#include "pushgw/h2/tls.hpp"

#include "pushgw/common/coroutine_warnings.hpp"  // last: GCC 12 false positive

namespace pushgw::h2 {

namespace asio = boost::asio;
using boost::system::error_code;
using Clock = std::chrono::steady_clock;

struct Pool::Impl : std::enable_shared_from_this<Impl> {
  Impl(asio::any_io_executor executor, PoolConfig configuration)
      : ex(std::move(executor)), cfg(std::move(configuration)) {
    if (cfg.connections == 0) cfg.connections = 1;
    if (cfg.max_inflight == 0) cfg.max_inflight = 1;
    for (std::size_t i = 0; i < cfg.connections; ++i) slots.emplace_back(ex);
  }

  // One of the `connections` places; its supervisor coroutine keeps a connection in it.
  struct Slot {
    explicit Slot(const asio::any_io_executor& ex) : backoff_timer(ex) {}
    std::shared_ptr<Connection> connection;  // null while waiting to reconnect
    asio::steady_timer backoff_timer;
    std::atomic<bool> ready{false};
  };

  asio::any_io_executor ex;
  PoolConfig cfg;
  std::shared_ptr<asio::ssl::context> tls;
  std::deque<Slot> slots;  // a deque: Slot cannot move
  std::list<std::shared_ptr<Connection>> retiring;  // draining after GOAWAY

  // A request from async_request, kept until its result is handed over (resends reuse it).
  struct Op {
    Request request;
    ResultHandler done;
    std::size_t attempt = 0;             // resends made after not_processed
    Clock::time_point give_up{};         // while waiting for a ready connection
  };

  bool started = false;
  bool stopping = false;
  // max_inflight, the one count of requests in flight: a request holds a permit from its send
  // to its result. A caller passes one it took (a fan-out waits once, not per request), or the
  // request waits here for one, oldest first, without a coroutine.
  common::Semaphore permits{ex, std::max<std::size_t>(cfg.max_inflight, 1)};
  // Requests holding a permit while no connection is ready, for up to connect_timeout each
  // (one timeout for all, so the deque stays in give_up order).
  std::deque<Op> waiting_for_connection;
  asio::steady_timer connection_wait_timer{ex, Clock::time_point::max()};  // at the front's give_up
  asio::steady_timer idle_timer{ex, Clock::time_point::max()};  // stop(): cancelled when the last request in flight is done
  error_code last_connect_error;
  // Why the latest connection attempt failed ("" once one succeeds), for stats() from any
  // thread: /readyz and provider_healthy must say so while no connection can be made.
  mutable std::mutex connect_problem_mutex;
  std::string connect_problem;
  void set_connect_problem(std::string text) {
    std::lock_guard lock(connect_problem_mutex);
    connect_problem = std::move(text);
  }

  std::atomic<std::size_t> stat_in_flight{0};
  std::atomic<std::size_t> stat_waiting{0};
  std::atomic<std::size_t> stat_retiring{0};
  std::atomic<std::uint64_t> stat_reconnects{0};
  std::atomic<bool> stat_stopped{false};

  std::shared_ptr<Connection> pick_ready() {
    std::shared_ptr<Connection> best;
    for (auto& slot : slots) {
      const auto& c = slot.connection;
      if (!c || c->state() != ConnectionState::ready) continue;
      if (!best || c->in_flight() < best->in_flight()) best = c;
    }
    return best;
  }

  asio::awaitable<void> supervise(std::size_t index) {
    auto keep = shared_from_this();
    Slot& slot = slots[index];
    common::BackoffSequence backoff(common::Backoff{cfg.reconnect_min, cfg.reconnect_max});
    bool first = true;
    while (!stopping) {
      auto connection = std::make_shared<Connection>(ex, cfg.connection, tls);
      slot.connection = connection;
      const error_code ec = co_await connection->connect();
      if (stopping) break;
      if (ec) {
        last_connect_error = ec;
        set_connect_problem(connection->last_error_detail());
        const milliseconds delay = backoff.next();
        spdlog::warn("h2 {}:{}: connection {} failed: {}; retrying in ~{} ms", cfg.connection.host,
                     cfg.connection.port, index, connection->last_error_detail(), delay.count());
        slot.connection.reset();
        slot.backoff_timer.expires_after(delay);
        co_await slot.backoff_timer.async_wait(asio::as_tuple(asio::use_awaitable));
        continue;
      }
      if (!first) ++stat_reconnects;
      first = false;
      set_connect_problem({});
      backoff.reset();
      slot.ready = true;
      send_waiting();

      co_await connection->wait_unusable();
      slot.ready = false;
      slot.connection.reset();
      if (stopping) {
        connection->close();
        break;
      }
      const bool goaway = connection->state() == ConnectionState::draining;
      spdlog::info("h2 {}:{}: connection {} {}: {}", cfg.connection.host, cfg.connection.port,
                   index, goaway ? "draining" : "closed", connection->last_error_detail());
      if (goaway) {
        // Let its in-flight streams finish on their own; open a replacement at once.
        asio::co_spawn(ex, retire(connection), asio::detached);
        continue;
      }
      slot.backoff_timer.expires_after(backoff.next());
      co_await slot.backoff_timer.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    slot.ready = false;
    slot.connection.reset();
  }

  asio::awaitable<void> retire(std::shared_ptr<Connection> connection) {
    auto keep = shared_from_this();
    auto it = retiring.insert(retiring.end(), connection);
    ++stat_retiring;
    co_await connection->wait_closed();
    retiring.erase(it);
    --stat_retiring;
  }

  // The connection's result handler for an Op: it carries the Op itself, so a send costs one
  // allocation (the handler's) rather than a shared Op plus a handler.
  struct OnResult {
    Impl* pool;
    std::shared_ptr<Impl> keep;  // the connection may hand the result over after the pool went
    Op op;
    void operator()(Result result) { pool->on_result(std::move(op), std::move(result)); }
  };

  // Every request starts here, on the pool's executor: with the caller's permit, or once the
  // pool's oldest waiter gets one.
  void accept(Op op, common::Permit permit) {
    if (stopping || !started) return fail_soon(std::move(op), make_error_code(error::closed));
    if (permit && !permit.of(permits)) return fail_soon(std::move(op), make_error_code(error::bad_request));
    if (permit || permits.try_acquire()) {
      permit.detach();  // given back by finish()
      ++stat_in_flight;
      return send(std::move(op));
    }
    ++stat_waiting;
    permits.acquire_or_queue([this, keep = shared_from_this(), op = std::move(op)]() mutable {
      --stat_waiting;
      ++stat_in_flight;
      if (stopping) return finish(std::move(op), Result{make_error_code(error::closed), {}});
      send(std::move(op));
    });
  }

  // With a permit: on the ready connection with the fewest in flight, or wait for one.
  void send(Op op) {
    if (auto connection = pick_ready()) return send_on(*connection, std::move(op));
    op.give_up = Clock::now() + cfg.connection.connect_timeout;
    waiting_for_connection.push_back(std::move(op));
    ++stat_waiting;
    if (waiting_for_connection.size() == 1) connection_wait_timer.cancel();  // re-arm for it
  }

  void send_on(Connection& connection, Op op) {
    ResultHandler handler = OnResult{this, shared_from_this(), std::move(op)};
    // OnResult is too big for std::function's inline buffer, so it lives on the heap and moving
    // `handler` into the connection leaves it where it is: the request read below stays valid.
    const Request& request = handler.target<OnResult>()->op.request;
    connection.async_request(request, std::move(handler));  // the pool and its connections share `ex`
  }

  // A connection got ready: the requests waiting for one go, oldest first.
  void send_waiting() {
    while (!waiting_for_connection.empty()) {
      auto connection = pick_ready();
      if (!connection) return;
      Op op = std::move(waiting_for_connection.front());
      waiting_for_connection.pop_front();
      --stat_waiting;
      send_on(*connection, std::move(op));
    }
  }

  // Fails the requests that waited connect_timeout for a ready connection, with the reason the
  // last attempt failed.
  asio::awaitable<void> expire_connection_waits() {
    auto keep = shared_from_this();
    while (!stopping) {
      connection_wait_timer.expires_at(waiting_for_connection.empty() ? Clock::time_point::max()
                                                                      : waiting_for_connection.front().give_up);
      co_await connection_wait_timer.async_wait(asio::as_tuple(asio::use_awaitable));
      const auto now = Clock::now();
      while (!waiting_for_connection.empty() && waiting_for_connection.front().give_up <= now) {
        Op op = std::move(waiting_for_connection.front());
        waiting_for_connection.pop_front();
        --stat_waiting;
        finish(std::move(op), Result{last_connect_error ? last_connect_error : make_error_code(error::no_connection), {}});
      }
    }
  }

  void on_result(Op op, Result result) {
    if (result.ec == error::not_processed && op.attempt < cfg.max_not_processed_retries && !stopping) {
      ++op.attempt;
      return send(std::move(op));  // keeps its permit
    }
    finish(std::move(op), std::move(result));
  }

  // Hands the result over and gives the permit back (to the oldest waiter, if any).
  void finish(Op op, Result result) {
    give_back_permit();
    op.done(std::move(result));
  }

  void give_back_permit() {
    --stat_in_flight;
    permits.release();
    if (stat_in_flight == 0) idle_timer.cancel();
  }

  // A result for a request that never got a permit, from a posted function as every result.
  void fail_soon(Op op, error_code ec) {
    asio::post(ex, [done = std::move(op.done), ec] { done(Result{ec, {}}); });
  }

  // Every request waiting for a connection fails with `closed` (stopping); those waiting for a
  // permit fail as they get one.
  void fail_waiting() {
    std::deque<Op> failed;
    failed.swap(waiting_for_connection);
    stat_waiting -= failed.size();
    for (auto& op : failed) {
      give_back_permit();
      fail_soon(std::move(op), make_error_code(error::closed));
    }
  }

  bool start(std::string* error) {
    if (started) return true;
    tls = make_tls_context(cfg.connection, error);
    if (!tls) return false;
    started = true;
    for (std::size_t i = 0; i < slots.size(); ++i) {
      asio::co_spawn(ex, supervise(i), asio::detached);
    }
    asio::co_spawn(ex, expire_connection_waits(), asio::detached);
    return true;
  }

  void close_everything() {
    stopping = true;
    stat_stopped = true;
    fail_waiting();
    connection_wait_timer.cancel();
    idle_timer.cancel();
    for (auto& slot : slots) {
      slot.backoff_timer.cancel();
      if (slot.connection) slot.connection->close();
    }
    for (auto& connection : retiring) connection->close();
  }

  asio::awaitable<void> stop(milliseconds deadline) {
    auto keep = shared_from_this();
    stopping = true;
    fail_waiting();
    connection_wait_timer.cancel();
    const auto until = Clock::now() + deadline;
    // The requests the pool took (permits held by callers that have not sent are not its own).
    while (stat_in_flight > 0 && Clock::now() < until) {
      idle_timer.expires_at(until);
      co_await idle_timer.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    close_everything();
  }
};

Pool::Pool(asio::any_io_executor executor, PoolConfig config)
    : impl_(std::make_shared<Impl>(std::move(executor), std::move(config))) {}

Pool::~Pool() {
  asio::dispatch(impl_->ex, [impl = impl_] { impl->close_everything(); });
}

bool Pool::start(std::string* error) { return impl_->start(error); }

asio::awaitable<void> Pool::stop(milliseconds deadline) {
  const auto caller = co_await asio::this_coro::executor;
  if (caller == impl_->ex) {
    co_await impl_->stop(deadline);
  } else {
    co_await asio::co_spawn(impl_->ex, impl_->stop(deadline), asio::use_awaitable);
  }
}

void Pool::start_request(common::Permit permit, Request request, ResultHandler done) {
  Impl::Op op{std::move(request), std::move(done)};
  if (common::running_in(impl_->ex)) return impl_->accept(std::move(op), std::move(permit));
  asio::post(impl_->ex, [impl = impl_, op = std::move(op), permit = std::move(permit)]() mutable {
    impl->accept(std::move(op), std::move(permit));
  });
}

common::Semaphore& Pool::permits() { return impl_->permits; }

const asio::any_io_executor& Pool::executor() const { return impl_->ex; }

PoolStats Pool::stats() const {
  PoolStats stats;
  for (const auto& slot : impl_->slots) {
    if (impl_->stat_stopped) {
      ++stats.closed;
    } else if (slot.ready) {
      ++stats.ready;
    } else {
      ++stats.connecting;
    }
  }
  stats.draining = impl_->stat_retiring.load();
  stats.in_flight = impl_->stat_in_flight.load();
  stats.waiting = impl_->stat_waiting.load();
  stats.reconnects = impl_->stat_reconnects.load();
  if (stats.ready == 0 && !impl_->stat_stopped) {
    std::lock_guard lock(impl_->connect_problem_mutex);
    stats.connect_problem = impl_->connect_problem;
  }
  return stats;
}

const PoolConfig& Pool::config() const { return impl_->cfg; }

std::string connection_problem(const PoolStats& stats, const PoolConfig& config) {
  if (stats.connect_problem.empty()) return {};
  return "cannot connect to " + config.connection.host + ":" + std::to_string(config.connection.port) + ": " +
         stats.connect_problem;
}

}  // namespace pushgw::h2
