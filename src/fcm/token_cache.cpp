#include "pushgw/fcm/token_cache.hpp"

#include <algorithm>
#include <list>
#include <mutex>
#include <optional>

#include <boost/asio.hpp>

namespace pushgw::fcm {

namespace asio = boost::asio;

std::int64_t refresh_due_at(std::int64_t obtained_at, std::chrono::seconds lifetime,
                            std::chrono::seconds margin) {
  return obtained_at + std::max(lifetime.count() - margin.count(), lifetime.count() / 2);
}

struct AccessTokenCache::State {
  State(asio::any_io_executor executor, Fetch fetch, TokenCacheConfig config, UnixClock clock)
      : executor(std::move(executor)), fetch(std::move(fetch)), config(config), clock(std::move(clock)) {}

  // A caller parked until the fetch in progress completes.
  struct Waiter {
    explicit Waiter(const asio::any_io_executor& ex) : timer(ex, asio::steady_timer::time_point::max()) {}
    asio::steady_timer timer;
    bool woken = false;
  };

  const asio::any_io_executor executor;
  const Fetch fetch;
  const TokenCacheConfig config;
  const UnixClock clock;

  // Guards everything below except `waiters`; never held across a co_await.
  mutable std::mutex mutex;
  std::string token;
  std::int64_t obtained_at = 0;
  std::int64_t expires_at = 0;
  std::int64_t refresh_at = 0;
  std::optional<TokenError> failure;  // the last fetch's error, answered until failure_until
  std::int64_t failure_until = 0;
  bool fetching = false;
  std::uint64_t generation = 0;       // completed fetches; a waiter compares it
  std::uint64_t fetched = 0;
  std::uint64_t attempts = 0;

  std::list<Waiter*> waiters;  // only touched on `executor`

  bool valid_locked(std::int64_t now) const { return !token.empty() && now < expires_at; }

  AccessToken current_locked(std::int64_t now) const {
    AccessToken current;
    current.value = token;
    current.expires_in = std::chrono::seconds(expires_at - now);
    return current;
  }

  // The answer when no fetch is needed now; nullopt when the caller must fetch or wait.
  std::optional<TokenResponse> answer_locked(std::int64_t now) const {
    const bool backing_off = failure && now < failure_until;
    if (valid_locked(now) && (now < refresh_at || fetching || backing_off)) return current_locked(now);
    if (!valid_locked(now) && backing_off) return *failure;
    return std::nullopt;
  }

  void wake_all() {
    while (!waiters.empty()) {
      Waiter* waiter = waiters.front();
      waiters.pop_front();
      waiter->woken = true;
      waiter->timer.cancel();
    }
  }

  static asio::awaitable<void> park(std::shared_ptr<State> self) {
    Waiter waiter(self->executor);
    auto it = self->waiters.insert(self->waiters.end(), &waiter);
    struct Remove {
      State& state;
      Waiter& waiter;
      std::list<Waiter*>::iterator it;
      ~Remove() {
        if (!waiter.woken) state.waiters.erase(it);
      }
    } remove{*self, waiter, it};
    while (!waiter.woken) co_await waiter.timer.async_wait(asio::as_tuple(asio::use_awaitable));
  }

  // Runs on `executor`.
  static asio::awaitable<TokenResponse> get(std::shared_ptr<State> self) {
    for (;;) {
      std::uint64_t seen_generation = 0;
      bool fetch_now = false;
      {
        std::lock_guard lock(self->mutex);
        const std::int64_t now = self->clock();
        if (auto answer = self->answer_locked(now)) co_return std::move(*answer);
        seen_generation = self->generation;
        if (!self->fetching) {
          self->fetching = true;
          ++self->attempts;
          fetch_now = true;
        }
      }
      if (fetch_now) co_return co_await run_fetch(self);

      co_await park(self);
      std::lock_guard lock(self->mutex);
      // The fetch we waited for failed: its error is our answer too (no fetch per waiter).
      if (self->generation != seen_generation && self->failure && !self->valid_locked(self->clock())) {
        co_return *self->failure;
      }
    }
  }

  static asio::awaitable<TokenResponse> run_fetch(std::shared_ptr<State> self) {
    // Whatever happens, the next caller may fetch again and the waiters get going.
    struct Done {
      State& state;
      ~Done() {
        {
          std::lock_guard lock(state.mutex);
          state.fetching = false;
          ++state.generation;
        }
        state.wake_all();
      }
    };
    TokenResponse result;
    {
      Done done{*self};
      try {
        result = co_await self->fetch();
      } catch (const std::exception& e) {
        TokenError error;
        error.kind = TokenError::Kind::transient;
        error.reason = "oauth fetch failed";
        error.message = std::string("oauth fetch failed: ") + e.what();
        result = std::move(error);
      }
      std::lock_guard lock(self->mutex);
      const std::int64_t now = self->clock();
      if (const auto* fresh = std::get_if<AccessToken>(&result)) {
        self->token = fresh->value;
        self->obtained_at = now;
        self->expires_at = now + fresh->expires_in.count();
        self->refresh_at = refresh_due_at(now, fresh->expires_in, self->config.refresh_margin);
        self->failure.reset();
        ++self->fetched;
      } else {
        self->failure = std::get<TokenError>(result);
        self->failure_until = now + self->config.failure_backoff.count();
        // A failed refresh while the old token still works: keep sending with it.
        if (self->valid_locked(now)) result = self->current_locked(now);
      }
    }
    co_return result;
  }
};

AccessTokenCache::AccessTokenCache(asio::any_io_executor executor, Fetch fetch, TokenCacheConfig config,
                                   UnixClock clock)
    : state_(std::make_shared<State>(std::move(executor), std::move(fetch), config, std::move(clock))) {}

AccessTokenCache::~AccessTokenCache() = default;

void AccessTokenCache::start(TokenHandler done) {
  auto state = state_;
  // Answers on the handler's executor: inline for a callback on ours, a hop for a coroutine
  // elsewhere.
  const auto answer = [state](TokenHandler done, TokenResponse response) {
    auto target = asio::get_associated_executor(done, state->executor);
    asio::dispatch(target, [done = std::move(done), response = std::move(response)]() mutable {
      std::move(done)(std::move(response));
    });
  };
  {
    std::lock_guard lock(state->mutex);
    if (auto ready = state->answer_locked(state->clock())) {
      answer(std::move(done), std::move(*ready));
      return;
    }
  }
  // A fetch, or a wait for the one in progress: a coroutine on the cache's executor.
  asio::co_spawn(state->executor, State::get(state),
                 [done = std::move(done), answer](std::exception_ptr failure, TokenResponse response) mutable {
                   if (failure) {
                     TokenError error;
                     error.kind = TokenError::Kind::transient;
                     error.reason = "oauth fetch failed";
                     error.message = "oauth fetch failed";
                     response = std::move(error);
                   }
                   answer(std::move(done), std::move(response));
                 });
}

AccessTokenCache::Invalidation AccessTokenCache::invalidate(const std::string& rejected) {
  auto& state = *state_;
  std::lock_guard lock(state.mutex);
  if (state.token.empty() || rejected != state.token) return Invalidation::stale;
  if (state.clock() - state.obtained_at < state.config.min_refetch_interval.count()) {
    return Invalidation::too_soon;
  }
  state.token.clear();
  state.expires_at = 0;
  state.refresh_at = 0;
  return Invalidation::dropped;
}

std::uint64_t AccessTokenCache::tokens_fetched() const {
  std::lock_guard lock(state_->mutex);
  return state_->fetched;
}

std::uint64_t AccessTokenCache::fetch_attempts() const {
  std::lock_guard lock(state_->mutex);
  return state_->attempts;
}

}  // namespace pushgw::fcm
