#pragma once
// The one provider token of a signing key, shared by every request that uses the key.
//
// APNs rejects tokens older than an hour (403 ExpiredProviderToken) and tokens replaced more
// often than every 20 minutes (429 TooManyProviderTokenUpdates). So the cache:
//   - mints a token on first use and again once the token is `max_age` (50 min) old;
//   - on a reported ExpiredProviderToken mints a new token only when the current one is at
//     least `min_refresh_interval` (20 min) old: a burst of 403s from requests already in
//     flight, or a clock skew, must not turn into a token per request.
//
// Thread-safe: a mutex guards the token, so coroutines on several io_context threads may
// share one cache. Minting (one ECDSA signature) happens under the lock, at most every 20
// minutes.

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>

#include "pushgw/apns/jwt.hpp"
#include "pushgw/common/clock.hpp"

namespace pushgw::apns {

struct TokenCacheConfig {
  std::chrono::seconds max_age{50 * 60};               // refresh before APNs' 60 min limit
  std::chrono::seconds min_refresh_interval{20 * 60};  // APNs' limit on token updates
};

using common::UnixClock;
using common::system_unix_seconds;

class TokenCache {
 public:
  TokenCache(SigningKey key, std::string key_id, std::string team_id,
             TokenCacheConfig config = {}, UnixClock clock = &system_unix_seconds);

  // The token to send as "authorization: bearer <token>"; minted or refreshed as needed.
  // Throws CredentialsError(signing_failed) only if OpenSSL cannot sign.
  std::string token();

  // Call after a 403 ExpiredProviderToken. Returns true when a new token was minted, false
  // when the current one is younger than min_refresh_interval (and stays).
  bool on_expired_token_reported();

  // How many tokens this cache has minted (for logs and tests).
  std::uint64_t tokens_minted() const;
  // The `iat` of the current token; 0 before the first token.
  std::int64_t issued_at() const;

 private:
  void mint_locked(std::int64_t now);

  const SigningKey key_;
  const std::string key_id_;
  const std::string team_id_;
  const TokenCacheConfig config_;
  const UnixClock clock_;

  mutable std::mutex mutex_;
  std::string token_;
  std::int64_t issued_at_ = 0;
  std::uint64_t minted_ = 0;
};

}  // namespace pushgw::apns
