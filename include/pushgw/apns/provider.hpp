#pragma once
// The APNs provider of one app: a fixed pool of HTTP/2 connections to the APNs endpoint, and
// send() for one (notification, device token) → SendOutcome.
//
// send() builds the request (request.hpp), adds the provider token (token auth), waits for
// the response and classifies it (reason.hpp). It never throws. Two responses also act on
// the provider itself:
//   - 403 ExpiredProviderToken: the token cache mints a new token if the current one is at
//     least 20 minutes old (token_cache.hpp); the outcome is retry.
//   - credentials_error: logged once, loudly, when it first appears (not once per send), and
//     reported by health() until APNs accepts a request again.
// A certificate-auth provider is also unhealthy while its certificate is expired.
//
// Threading: as h2::Pool — the provider lives on one executor (a strand when several threads
// run the io_context); send() may be awaited from any executor; health() and pool_stats()
// may be called from any thread.

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
#include "pushgw/provider/health.hpp"

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
struct PreparedSend {
  std::optional<job::SendOutcome> refusal;  // set when no token can be sent this notification
  ApnsPrepared request;                     // its headers moved into `headers`
  std::vector<h2::Header> headers;          // request.headers as HTTP/2 headers (no apns-id)
};

class Provider {
 public:
  // `credentials` must come from load_credentials(config.auth, ...).
  Provider(boost::asio::any_io_executor executor, config::ApnsConfig config, Credentials credentials,
           ProviderOptions options = {});
  ~Provider();
  Provider(const Provider&) = delete;
  Provider& operator=(const Provider&) = delete;

  // Starts connecting. Returns false and sets *error when the endpoint or the TLS settings
  // cannot work (a malformed endpoint, an unreadable ca_file...); connection failures are
  // retried in the background, not errors here.
  bool start(std::string* error = nullptr);
  // Stops taking sends; in-flight ones may finish until `deadline`.
  boost::asio::awaitable<void> stop(std::chrono::milliseconds deadline);

  // Sends `n` to one device token and classifies the result. `n` and `device_token` are
  // referenced until the returned awaitable completes (co_await it directly).
  boost::asio::awaitable<job::SendOutcome> send(const job::Notification& n, const std::string& device_token);

  // The same in two steps, for one notification going to many tokens: prepare() once (it
  // does no I/O and may be called from any thread), then send() per token.
  std::shared_ptr<const PreparedSend> prepare(const job::Notification& n) const;
  boost::asio::awaitable<job::SendOutcome> send(std::shared_ptr<const PreparedSend> prepared,
                                                const std::string& device_token);
  // The per-token send without a coroutine, for a caller on executor() (the dispatcher's
  // fan-out): `done` gets the outcome, exactly once, on executor(), possibly before send()
  // returns. `device_token` is not referenced after send() returns.
  using SendHandler = std::function<void(job::SendOutcome)>;
  void send(std::shared_ptr<const PreparedSend> prepared, const std::string& device_token, SendHandler done);

  // The executor the provider's connections live on.
  boost::asio::any_io_executor executor() const;

  provider::Health health() const;
  h2::PoolStats pool_stats() const;
  // How many provider tokens have been minted (0 with certificate auth).
  std::uint64_t tokens_minted() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace pushgw::apns
