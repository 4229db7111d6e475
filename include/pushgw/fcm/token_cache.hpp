#pragma once
// The OAuth access token of a service account, shared by every send of the app.
//
// Google's tokens live an hour (expires_in). The cache:
//   - fetches a token on first use, and again `refresh_margin` (5 min) before it expires —
//     or at half its lifetime when the lifetime is short — so sends never carry a token that
//     expires on the way;
//   - never fetches twice at once: callers that arrive during a fetch wait for it (or, while
//     the current token is still valid, keep using that one);
//   - after a failed fetch, answers that failure for `failure_backoff` (5 s) instead of
//     fetching again, so a broken key or endpoint cannot turn every send into a token request;
//   - on a 401 from FCM drops the token (invalidate), unless it is younger than
//     `min_refetch_interval` (30 s): a token fresh from Google that FCM refuses is a
//     credentials problem, and refetching per send would not fix it.
//
// The fetch itself (HTTP/2 to token_uri) is injected, and so is the clock, so tests control
// both. The cache lives on one executor (the provider's); async_token() may be called from any
// executor (a fetch runs on the cache's); invalidate() and the counters from any thread.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>

#include "pushgw/common/clock.hpp"
#include "pushgw/fcm/oauth.hpp"

namespace pushgw::fcm {

// Unix seconds, injectable (the same clock type as apns' provider-token cache).
using common::UnixClock;
using common::system_unix_seconds;

struct TokenCacheConfig {
  std::chrono::seconds refresh_margin{5 * 60};    // replace a token this long before it expires
  std::chrono::seconds min_refetch_interval{30};  // a 401 drops only tokens at least this old
  std::chrono::seconds failure_backoff{5};        // a failed fetch is the answer for this long
};

// When a token obtained at `obtained_at` (unix s) and valid for `lifetime` is due for
// replacement: `margin` before it expires, or at half its lifetime if that is later (a token
// that lives less than 2 × margin would otherwise be refreshed at once, on every use).
std::int64_t refresh_due_at(std::int64_t obtained_at, std::chrono::seconds lifetime,
                            std::chrono::seconds margin);

class AccessTokenCache {
 public:
  // Fetches a new token from the token endpoint. Must not throw (a throw counts as a
  // transient failure).
  using Fetch = std::function<boost::asio::awaitable<TokenResponse>()>;

  AccessTokenCache(boost::asio::any_io_executor executor, Fetch fetch, TokenCacheConfig config = {},
                   UnixClock clock = &system_unix_seconds);
  ~AccessTokenCache();
  AccessTokenCache(const AccessTokenCache&) = delete;
  AccessTokenCache& operator=(const AccessTokenCache&) = delete;

  // The token to send (its expires_in is the time it has left), fetched or refreshed as
  // needed; or why there is none. An Asio initiating function: a plain callback (the send
  // path: called at once when the cached token serves, no coroutine) or use_awaitable. The
  // answer goes to the handler's executor.
  template <class CompletionToken>
  auto async_token(CompletionToken&& completion) {
    return boost::asio::async_initiate<CompletionToken, void(TokenResponse)>(
        [this](auto handler) { start(TokenHandler(std::move(handler))); }, completion);
  }

  enum class Invalidation {
    dropped,   // `rejected` was the current token; the next token() fetches a new one
    stale,     // `rejected` is no longer the current token (already replaced): nothing to do
    too_soon,  // the current token is younger than min_refetch_interval: kept
  };
  // Call when FCM answered 401 UNAUTHENTICATED to a request that carried `rejected`.
  Invalidation invalidate(const std::string& rejected);

  std::uint64_t tokens_fetched() const;  // successful fetches
  std::uint64_t fetch_attempts() const;  // fetches started, successful or not

 private:
  using TokenHandler = boost::asio::any_completion_handler<void(TokenResponse)>;
  void start(TokenHandler done);

  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace pushgw::fcm
