#pragma once
// The APNs provider of one app (a provider::Provider): a fixed pool of HTTP/2 connections to
// the APNs endpoint.
//
// prepare() builds the payload and headers once per notification and adds the provider token
// (token auth); async_send() makes the per-token request (path, apns-id), waits for the
// response and classifies it (reason.hpp). It never throws. Two responses also act on the
// provider itself:
//   - 403 ExpiredProviderToken: the token cache mints a new token if the current one is at
//     least 20 minutes old (token_cache.hpp); the outcome is retry.
//   - credentials_error: logged once, loudly, when it first appears (not once per send), and
//     reported by health() until APNs accepts a request again.
// A certificate-auth provider is also unhealthy while its certificate is expired.
//
// Threading: as h2::Pool — the provider lives on one executor; async_send() may be called from
// any executor; health() and pool_stats() from any thread.

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "pushgw/apns/credentials.hpp"
#include "pushgw/apns/request.hpp"
#include "pushgw/apns/token_cache.hpp"
#include "pushgw/config/config.hpp"
#include "pushgw/h2/pool.hpp"
#include "pushgw/job/notification.hpp"
#include "pushgw/job/outcome.hpp"
#include "pushgw/provider/provider.hpp"

namespace pushgw::apns {

inline constexpr std::string_view kProductionEndpoint = "https://api.push.apple.com";
inline constexpr std::string_view kSandboxEndpoint = "https://api.sandbox.push.apple.com";

struct ProviderOptions {
  std::string app;                      // the app's name, for log lines
  TokenCacheConfig token_cache;         // provider-token refresh intervals
  UnixClock clock = &system_unix_seconds;  // provider-token iat and refresh decisions
  std::chrono::milliseconds connect_timeout{10000};
  std::chrono::milliseconds reconnect_min{100};
  std::chrono::milliseconds reconnect_max{30000};
};

// One notification made ready for sending (Provider::prepare): payload, headers and provider
// token built once, shared by the requests to all its device tokens.
struct PreparedSend : provider::Prepared {
  std::optional<job::SendOutcome> refusal;  // set when no token can be sent this notification
  ApnsPrepared request;                     // its headers moved into `headers`
  std::vector<h2::Header> headers;          // request.headers as HTTP/2 headers (no apns-id)
};

class Provider final : public provider::Provider {
 public:
  // `credentials` must come from load_credentials(config.auth, ...).
  Provider(boost::asio::any_io_executor executor, config::ApnsConfig config, Credentials credentials,
           ProviderOptions options = {});
  ~Provider() override;

  bool start(std::string* error) override;

  // A PreparedSend: payload, headers and provider token, or the refusal every token gets.
  std::shared_ptr<const provider::Prepared> prepare(const job::Notification& n) const override;

  provider::Health health() const override;
  // How many provider tokens have been minted (0 with certificate auth).
  std::uint64_t tokens_minted() const;

 protected:
  void send(common::Permit permit, std::shared_ptr<const provider::Prepared> prepared, const std::string& device_token,
            provider::SendHandler done) override;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace pushgw::apns
