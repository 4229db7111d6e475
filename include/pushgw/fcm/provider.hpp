#pragma once
// The FCM provider of one app (a provider::Provider): a fixed pool of HTTP/2 connections to
// the FCM endpoint and an OAuth access token from the service account.
//
// async_send() takes the access token from the cache (token_cache.hpp), builds the request for
// the token (message.hpp), waits for the response and classifies it (reason.hpp). It never
// throws, and makes no coroutine unless an access token must be fetched.
//   - The access token is fetched over HTTP/2 from the service account's token_uri (a
//     connection per fetch, about once an hour, verified with the same ca_file). A fetch the
//     token endpoint refuses (invalid_grant, ...) makes the send a credentials_error; a fetch
//     that got no usable answer makes it a retry.
//   - 401 UNAUTHENTICATED from FCM drops the access token, so the next send fetches a new one,
//     and the outcome is retry — unless the token is younger than min_refetch_interval: a
//     token fresh from Google that FCM refuses is a credentials_error (the service account
//     lacks the permission, or belongs to another project).
//   - credentials_error (from FCM or from the token endpoint) is logged once, loudly, when it
//     first appears (not once per send), and reported by health() until FCM accepts a
//     request again.
//
// Threading: as h2::Pool — the provider lives on one executor; async_send() may be called from
// any executor; health(), pool_stats() and tokens_fetched() from any thread.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "pushgw/config/config.hpp"
#include "pushgw/fcm/service_account.hpp"
#include "pushgw/fcm/token_cache.hpp"
#include "pushgw/h2/pool.hpp"
#include "pushgw/job/notification.hpp"
#include "pushgw/job/outcome.hpp"
#include "pushgw/provider/provider.hpp"

namespace pushgw::fcm {

inline constexpr std::string_view kProductionEndpoint = "https://fcm.googleapis.com";

struct ProviderOptions {
  std::string app;                         // the app's name, for log lines
  TokenCacheConfig token_cache;            // access-token refresh and refetch intervals
  UnixClock clock = &system_unix_seconds;  // assertion iat, token ages, message ttl
  std::chrono::milliseconds connect_timeout{10000};
  std::chrono::milliseconds reconnect_min{100};
  std::chrono::milliseconds reconnect_max{30000};
};

class Provider final : public provider::Provider {
 public:
  // `account` must come from load_service_account(config.service_account_file, ...).
  Provider(boost::asio::any_io_executor executor, config::FcmConfig config, ServiceAccount account,
           ProviderOptions options = {});
  ~Provider() override;

  // Starts connecting to FCM; the first access token is fetched by the first send.
  bool start(std::string* error) override;
  boost::asio::awaitable<void> stop(std::chrono::milliseconds deadline) override;

  std::shared_ptr<const provider::Prepared> prepare(const job::Notification& n) const override;

  provider::Health health() const override;
  // How many access tokens have been fetched successfully.
  std::uint64_t tokens_fetched() const;

 protected:
  void send(common::Permit permit, std::shared_ptr<const provider::Prepared> prepared, const std::string& token,
            provider::SendHandler done) override;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace pushgw::fcm
