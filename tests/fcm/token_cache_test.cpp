// The access-token cache with a fake token endpoint and a hand-driven clock: when it fetches,
// that concurrent callers share one fetch, failures and their backoff, and invalidation after a
// 401. No real time passes in these tests.

#include "pushgw/fcm/token_cache.hpp"

#include <future>
#include <stdexcept>
#include <vector>

#include <boost/asio.hpp>
#include <gtest/gtest.h>

namespace pushgw::fcm {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

AccessToken access(const std::string& value, std::chrono::seconds lifetime = 3600s) {
  AccessToken token;
  token.value = value;
  token.expires_in = lifetime;
  return token;
}

TokenError failure(TokenError::Kind kind, const std::string& reason) {
  TokenError error;
  error.kind = kind;
  error.reason = reason;
  error.message = reason + ": details";
  return error;
}

std::string value_of(const TokenResponse& response) {
  if (const auto* token = std::get_if<AccessToken>(&response)) return token->value;
  return "error: " + std::get<TokenError>(response).reason;
}

struct FcmTokenCacheTest : ::testing::Test {
  asio::io_context io;
  std::int64_t now = 1'000'000;
  int fetches = 0;
  bool hold = false;  // fetches wait for release()
  asio::steady_timer gate{io, asio::steady_timer::time_point::max()};
  TokenResponse next = access("t1");
  bool throw_next = false;

  asio::awaitable<TokenResponse> serve() {
    ++fetches;
    while (hold) co_await gate.async_wait(asio::as_tuple(asio::use_awaitable));
    if (throw_next) throw std::runtime_error("boom");
    co_return next;
  }

  void release() {
    hold = false;
    gate.cancel();
  }

  std::unique_ptr<AccessTokenCache> make(TokenCacheConfig config = {}) {
    return make_on(io.get_executor(), config);
  }

  std::unique_ptr<AccessTokenCache> make_on(asio::any_io_executor executor, TokenCacheConfig config = {}) {
    return std::make_unique<AccessTokenCache>(
        std::move(executor), [this] { return serve(); }, config, [this] { return now; });
  }

  TokenResponse get(AccessTokenCache& cache) {
    auto future = asio::co_spawn(io, cache.async_token(asio::use_awaitable), asio::use_future);
    io.restart();
    // Nothing here waits for real time: once no handler is ready, async_token() is stuck.
    while (future.wait_for(0s) != std::future_status::ready) {
      if (io.poll() == 0) throw std::runtime_error("async_token() is stuck");
      io.restart();
    }
    return future.get();
  }

  // Starts async_token() calls that stay pending while `hold` is set.
  std::vector<std::future<TokenResponse>> start(AccessTokenCache& cache, int callers) {
    std::vector<std::future<TokenResponse>> futures;
    for (int i = 0; i < callers; ++i) futures.push_back(asio::co_spawn(io, cache.async_token(asio::use_awaitable), asio::use_future));
    io.restart();
    io.poll();
    return futures;
  }

  std::vector<std::string> finish(std::vector<std::future<TokenResponse>>& futures) {
    io.restart();
    io.poll();
    std::vector<std::string> values;
    for (auto& future : futures) {
      EXPECT_EQ(future.wait_for(0s), std::future_status::ready);
      values.push_back(value_of(future.get()));
    }
    return values;
  }
};

TEST(FcmRefreshDueAt, FiveMinutesBeforeExpiryOrAtHalfLife) {
  EXPECT_EQ(refresh_due_at(1000, 3600s, 300s), 1000 + 3300);
  EXPECT_EQ(refresh_due_at(1000, 3599s, 300s), 1000 + 3299);
  EXPECT_EQ(refresh_due_at(1000, 600s, 300s), 1000 + 300);
  EXPECT_EQ(refresh_due_at(1000, 120s, 300s), 1000 + 60);
  EXPECT_EQ(refresh_due_at(1000, 1s, 300s), 1000);
}

TEST_F(FcmTokenCacheTest, FetchesOnFirstUseThenReusesTheToken) {
  auto cache = make();
  EXPECT_EQ(fetches, 0);
  auto first = get(*cache);
  EXPECT_EQ(value_of(first), "t1");
  EXPECT_EQ(std::get<AccessToken>(first).expires_in, 3600s);
  now += 100;
  next = access("t2");
  const auto second = get(*cache);
  EXPECT_EQ(value_of(second), "t1");
  EXPECT_EQ(std::get<AccessToken>(second).expires_in, 3500s);  // what is left of it
  EXPECT_EQ(fetches, 1);
  EXPECT_EQ(cache->tokens_fetched(), 1u);
}

TEST_F(FcmTokenCacheTest, RefreshesFiveMinutesBeforeExpiry) {
  auto cache = make();
  get(*cache);
  next = access("t2");
  now += 3299;
  EXPECT_EQ(value_of(get(*cache)), "t1");
  EXPECT_EQ(fetches, 1);
  now += 1;
  EXPECT_EQ(value_of(get(*cache)), "t2");
  EXPECT_EQ(fetches, 2);
  EXPECT_EQ(cache->tokens_fetched(), 2u);
}

TEST_F(FcmTokenCacheTest, ShortLivedTokensRefreshAtHalfLife) {
  next = access("short", 120s);
  auto cache = make();
  get(*cache);
  next = access("t2", 120s);
  now += 59;
  EXPECT_EQ(value_of(get(*cache)), "short");
  now += 1;
  EXPECT_EQ(value_of(get(*cache)), "t2");
  EXPECT_EQ(fetches, 2);
}

TEST_F(FcmTokenCacheTest, ConcurrentCallersShareOneFetch) {
  auto cache = make();
  hold = true;
  auto pending = start(*cache, 5);
  EXPECT_EQ(fetches, 1);
  for (auto& future : pending) EXPECT_EQ(future.wait_for(0s), std::future_status::timeout);
  release();
  EXPECT_EQ(finish(pending), std::vector<std::string>(5, "t1"));
  EXPECT_EQ(fetches, 1);
  EXPECT_EQ(cache->fetch_attempts(), 1u);
}

TEST_F(FcmTokenCacheTest, DuringARefreshOtherCallersKeepTheStillValidToken) {
  auto cache = make();
  get(*cache);
  now += 3300;  // due for refresh, valid for 5 more minutes
  next = access("t2");
  hold = true;
  auto refreshing = start(*cache, 1);
  EXPECT_EQ(fetches, 2);
  EXPECT_EQ(value_of(get(*cache)), "t1");  // does not wait, does not fetch again
  EXPECT_EQ(fetches, 2);
  release();
  EXPECT_EQ(finish(refreshing), std::vector<std::string>{"t2"});
  EXPECT_EQ(value_of(get(*cache)), "t2");
  EXPECT_EQ(fetches, 2);
}

TEST_F(FcmTokenCacheTest, AFailedFetchIsTheAnswerUntilTheBackoffEnds) {
  next = failure(TokenError::Kind::credentials, "invalid_grant");
  auto cache = make();
  EXPECT_EQ(value_of(get(*cache)), "error: invalid_grant");
  now += 4;
  EXPECT_EQ(value_of(get(*cache)), "error: invalid_grant");
  EXPECT_EQ(fetches, 1);
  now += 1;  // failure_backoff (5 s) is over
  next = access("t1");
  EXPECT_EQ(value_of(get(*cache)), "t1");
  EXPECT_EQ(fetches, 2);
  EXPECT_EQ(cache->fetch_attempts(), 2u);
  EXPECT_EQ(cache->tokens_fetched(), 1u);
}

TEST_F(FcmTokenCacheTest, WaitersGetTheFailureOfTheFetchTheyWaitedFor) {
  TokenCacheConfig config;
  config.failure_backoff = 0s;  // even without a backoff, waiters do not each fetch again
  auto cache = make(config);
  next = failure(TokenError::Kind::transient, "oauth HTTP 503");
  hold = true;
  auto pending = start(*cache, 3);
  release();
  EXPECT_EQ(finish(pending), std::vector<std::string>(3, "error: oauth HTTP 503"));
  EXPECT_EQ(fetches, 1);
}

TEST_F(FcmTokenCacheTest, AFailedRefreshKeepsUsingTheValidToken) {
  auto cache = make();
  get(*cache);
  now += 3300;
  next = failure(TokenError::Kind::transient, "oauth HTTP 503");
  EXPECT_EQ(value_of(get(*cache)), "t1");
  EXPECT_EQ(fetches, 2);
  now += 1;
  EXPECT_EQ(value_of(get(*cache)), "t1");  // within the backoff: no new fetch
  EXPECT_EQ(fetches, 2);
  now += 5;
  next = access("t2");
  EXPECT_EQ(value_of(get(*cache)), "t2");
  EXPECT_EQ(fetches, 3);
}

TEST_F(FcmTokenCacheTest, AnExpiredTokenIsNeverReturned) {
  auto cache = make();
  get(*cache);
  now += 3600;
  next = failure(TokenError::Kind::transient, "oauth HTTP 503");
  EXPECT_EQ(value_of(get(*cache)), "error: oauth HTTP 503");
}

TEST_F(FcmTokenCacheTest, InvalidateDropsOnlyTheCurrentTokenAndNotTooSoon) {
  auto cache = make();
  EXPECT_EQ(cache->invalidate("t1"), AccessTokenCache::Invalidation::stale);  // no token yet
  get(*cache);
  EXPECT_EQ(cache->invalidate("an-older-token"), AccessTokenCache::Invalidation::stale);
  now += 29;
  EXPECT_EQ(cache->invalidate("t1"), AccessTokenCache::Invalidation::too_soon);
  EXPECT_EQ(value_of(get(*cache)), "t1");
  EXPECT_EQ(fetches, 1);
  now += 1;
  EXPECT_EQ(cache->invalidate("t1"), AccessTokenCache::Invalidation::dropped);
  next = access("t2");
  EXPECT_EQ(value_of(get(*cache)), "t2");
  EXPECT_EQ(fetches, 2);
  EXPECT_EQ(cache->invalidate("t1"), AccessTokenCache::Invalidation::stale);
}

TEST_F(FcmTokenCacheTest, AThrowingFetchIsATransientFailure) {
  throw_next = true;
  auto cache = make();
  const auto response = get(*cache);
  const auto* error = std::get_if<TokenError>(&response);
  ASSERT_NE(error, nullptr);
  EXPECT_EQ(error->kind, TokenError::Kind::transient);
  EXPECT_NE(error->message.find("boom"), std::string::npos);
}

TEST_F(FcmTokenCacheTest, WorksFromAnotherExecutor) {
  // The cache on a strand, its callers on the plain io_context executor: the answer hops back.
  auto cache = make_on(asio::make_strand(io));
  hold = true;
  auto pending = start(*cache, 3);
  EXPECT_EQ(fetches, 1);
  release();
  EXPECT_EQ(finish(pending), std::vector<std::string>(3, "t1"));
}

}  // namespace
}  // namespace pushgw::fcm
