#include "pushgw/h2/pool.hpp"

#include <algorithm>
#include <atomic>
#include <deque>
#include <list>
#include <mutex>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <spdlog/spdlog.h>

#include "pushgw/common/backoff.hpp"
#include "pushgw/h2/tls.hpp"

#include "pushgw/common/coroutine_warnings.hpp"  // last: GCC 12 false positive

namespace pushgw::h2 {

namespace asio = boost::asio;
using boost::system::error_code;
using Clock = std::chrono::steady_clock;

namespace {

// A coroutine parked until something changes (a permit frees, a connection gets ready).
struct Waiter {
  explicit Waiter(const asio::any_io_executor& ex) : timer(ex, Clock::time_point::max()) {}
  asio::steady_timer timer;
  bool woken = false;
  bool granted = false;  // a permit was handed over with the wake-up
};

// Parks `waiter` in `list` until woken or `deadline`; removes it again in every case.
asio::awaitable<void> park(std::list<Waiter*>& list, Waiter& waiter, Clock::time_point deadline) {
  auto it = list.insert(list.end(), &waiter);
  struct Remove {
    std::list<Waiter*>& list;
    Waiter& waiter;
    std::list<Waiter*>::iterator it;
    ~Remove() {
      if (!waiter.woken) list.erase(it);
    }
  } remove{list, waiter, it};
  waiter.timer.expires_at(deadline);
  while (!waiter.woken && Clock::now() < deadline) {
    co_await waiter.timer.async_wait(asio::as_tuple(asio::use_awaitable));
  }
}

void wake_one(std::list<Waiter*>& list) {
  if (list.empty()) return;
  Waiter* waiter = list.front();
  list.pop_front();
  waiter->woken = true;
  waiter->timer.cancel();
}

void wake_all(std::list<Waiter*>& list) {
  while (!list.empty()) wake_one(list);
}

}  // namespace

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

  bool started = false;
  bool stopping = false;
  std::size_t permits_in_use = 0;
  std::list<Waiter*> permit_waiters;
  std::list<Waiter*> ready_waiters;
  std::list<Waiter*> idle_waiters;  // stop() waiting for in-flight requests to finish
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
      wake_all(ready_waiters);

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

  // A request of submit(), kept until its result is handed over (retries resend it).
  struct Submitted {
    Request request;
    ResultHandler done;
    std::size_t attempt = 0;
  };

  // The connection's result handler for a Submitted: it carries the request itself, so a send
  // costs one allocation (the handler's) rather than a shared Submitted plus a handler.
  struct OnResult {
    Impl* pool;
    std::shared_ptr<Impl> keep;  // the connection may hand the result over after the pool went
    Submitted op;
    void operator()(Result result) { pool->on_result(std::move(op), std::move(result)); }
  };

  void submit(Request request, ResultHandler done) {
    Submitted op{std::move(request), std::move(done)};
    if (started && !stopping && permits_in_use < cfg.max_inflight && permit_waiters.empty()) {
      if (auto connection = pick_ready()) {
        ++permits_in_use;
        ++stat_in_flight;
        send_on(*connection, std::move(op));
        return;
      }
    }
    request_slowly(std::move(op));
  }

  void send_on(Connection& connection, Submitted op) {
    ResultHandler handler = OnResult{this, shared_from_this(), std::move(op)};
    // OnResult is too big for std::function's inline buffer, so it lives on the heap and moving
    // `handler` into the connection leaves it where it is: the request read by submit() below
    // stays valid.
    const Request& request = handler.target<OnResult>()->op.request;
    connection.submit(request, std::move(handler));
  }

  void on_result(Submitted op, Result result) {
    const bool resend =
        result.ec == error::not_processed && op.attempt < cfg.max_not_processed_retries && !stopping;
    if (resend) {
      ++op.attempt;
      if (auto connection = pick_ready()) {
        send_on(*connection, std::move(op));  // keeps its permit
        return;
      }
    }
    --stat_in_flight;
    release_permit();
    if (resend) {
      request_slowly(std::move(op));  // waits for a connection like request()
    } else {
      op.done(std::move(result));
    }
  }

  // request() for a submitted request: waits for a permit or a ready connection.
  void request_slowly(Submitted submitted) {
    auto op = std::make_shared<Submitted>(std::move(submitted));
    const Request& request = op->request;
    const std::size_t attempt = op->attempt;
    asio::co_spawn(ex, this->request(request, attempt),
                   [op = std::move(op)](std::exception_ptr failure, Result result) {
                     if (failure) result = Result{make_error_code(error::closed), {}};
                     op->done(std::move(result));
                   });
  }

  // `request` is referenced until the result is back; `first_attempt` counts resends already
  // made after not_processed.
  asio::awaitable<Result> request(const Request& request, std::size_t first_attempt = 0) {
    auto keep = shared_from_this();
    if (stopping || !started) co_return Result{error::closed, {}};

    // A permit bounds the requests in flight over the whole pool.
    if (permits_in_use >= cfg.max_inflight || !permit_waiters.empty()) {
      Waiter waiter(ex);
      ++stat_waiting;
      co_await park(permit_waiters, waiter, Clock::time_point::max());
      --stat_waiting;
      if (!waiter.granted) co_return Result{error::closed, {}};  // woken by stop()
      if (stopping) {
        release_permit();
        co_return Result{error::closed, {}};
      }
    } else {
      ++permits_in_use;
    }
    ++stat_in_flight;
    struct Release {
      Impl& impl;
      ~Release() {
        --impl.stat_in_flight;
        impl.release_permit();
      }
    } release{*this};

    Result result;
    for (std::size_t attempt = first_attempt; attempt <= cfg.max_not_processed_retries; ++attempt) {
      std::shared_ptr<Connection> connection = pick_ready();
      if (!connection) {
        const auto deadline = Clock::now() + cfg.connection.connect_timeout;
        while (!connection && !stopping && Clock::now() < deadline) {
          Waiter waiter(ex);
          co_await park(ready_waiters, waiter, deadline);
          connection = pick_ready();
        }
        if (stopping) co_return Result{error::closed, {}};
        if (!connection) {
          co_return Result{last_connect_error ? last_connect_error
                                              : make_error_code(error::no_connection),
                           {}};
        }
      }
      result = co_await connection->request_here(request);  // the pool and its connections share `ex`
      if (result.ec != error::not_processed) break;
    }
    co_return result;
  }

  void release_permit() {
    if (!permit_waiters.empty() && !stopping) {
      permit_waiters.front()->granted = true;  // hand the permit over
      wake_one(permit_waiters);
      return;
    }
    --permits_in_use;
    if (permits_in_use == 0) wake_all(idle_waiters);
  }

  bool start(std::string* error) {
    if (started) return true;
    tls = make_tls_context(cfg.connection, error);
    if (!tls) return false;
    started = true;
    for (std::size_t i = 0; i < slots.size(); ++i) {
      asio::co_spawn(ex, supervise(i), asio::detached);
    }
    return true;
  }

  void close_everything() {
    stopping = true;
    stat_stopped = true;
    wake_all(permit_waiters);
    wake_all(ready_waiters);
    for (auto& slot : slots) {
      slot.backoff_timer.cancel();
      if (slot.connection) slot.connection->close();
    }
    for (auto& connection : retiring) connection->close();
  }

  asio::awaitable<void> stop(milliseconds deadline) {
    auto keep = shared_from_this();
    stopping = true;
    wake_all(permit_waiters);
    wake_all(ready_waiters);
    const auto until = Clock::now() + deadline;
    while (permits_in_use > 0 && Clock::now() < until) {
      Waiter waiter(ex);
      co_await park(idle_waiters, waiter, until);
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

asio::awaitable<Result> Pool::request(Request request) {
  const auto caller = co_await asio::this_coro::executor;
  // `request` lives in this frame while Impl::request references it.
  if (caller == impl_->ex) co_return co_await impl_->request(request);
  co_return co_await asio::co_spawn(impl_->ex, impl_->request(request), asio::use_awaitable);
}

void Pool::submit(Request request, ResultHandler done) { impl_->submit(std::move(request), std::move(done)); }

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
