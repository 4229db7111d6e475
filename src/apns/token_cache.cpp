#include "pushgw/apns/token_cache.hpp"

namespace pushgw::apns {

TokenCache::TokenCache(SigningKey key, std::string key_id, std::string team_id,
                       TokenCacheConfig config, UnixClock clock)
    : key_(std::move(key)),
      key_id_(std::move(key_id)),
      team_id_(std::move(team_id)),
      config_(config),
      clock_(std::move(clock)) {}

std::string TokenCache::token() {
  std::lock_guard lock(mutex_);
  const std::int64_t now = clock_();
  // A clock that stepped backwards makes the age negative: keep the token rather than mint
  // one that APNs may see as issued in the future.
  if (token_.empty() || now - issued_at_ >= config_.max_age.count()) mint_locked(now);
  return token_;
}

bool TokenCache::on_expired_token_reported() {
  std::lock_guard lock(mutex_);
  const std::int64_t now = clock_();
  if (!token_.empty() && now - issued_at_ < config_.min_refresh_interval.count()) return false;
  mint_locked(now);
  return true;
}

std::uint64_t TokenCache::tokens_minted() const {
  std::lock_guard lock(mutex_);
  return minted_;
}

std::int64_t TokenCache::issued_at() const {
  std::lock_guard lock(mutex_);
  return issued_at_;
}

void TokenCache::mint_locked(std::int64_t now) {
  token_ = make_provider_token(key_, key_id_, team_id_, now);
  issued_at_ = now;
  ++minted_;
}

}  // namespace pushgw::apns
