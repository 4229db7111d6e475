#include "pushgw/fcm/provider.hpp"

#include <atomic>
#include <mutex>
#include <optional>
#include <utility>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>

#include "pushgw/fcm/error.hpp"
#include "pushgw/fcm/message.hpp"
#include "pushgw/fcm/oauth.hpp"
#include "pushgw/fcm/reason.hpp"
#include "pushgw/h2/connection.hpp"
#include "pushgw/h2/tls.hpp"
#include "pushgw/log/log.hpp"
#include "pushgw/provider/pool_config.hpp"
#include "pushgw/provider/transport.hpp"

#include "pushgw/common/coroutine_warnings.hpp"  // last: GCC 12 false positive

namespace pushgw::fcm {

namespace asio = boost::asio;
using job::OutcomeKind;

namespace {

TokenError transient_token_error(std::string reason, const std::string& detail) {
  TokenError error;
  error.kind = TokenError::Kind::transient;
  error.message = detail.empty() ? reason : reason + ": " + detail;
  error.reason = std::move(reason);
  return error;
}

}  // namespace

struct Provider::Impl {
  Impl(asio::any_io_executor executor, config::FcmConfig config, ServiceAccount account, ProviderOptions options)
      : executor(std::move(executor)),
        config(std::move(config)),
        account(std::move(account)),
        options(std::move(options)),
        logger(log::get("fcm")),
        credential_state({"FCM", app_label(), this->account.describe(),
                          "service_account_file, the Firebase project's permissions or endpoint"},
                         logger),
        // `this` outlives every fetch: a fetch runs only inside a send, which holds the Impl.
        tokens(this->executor, [this] { return fetch_token(); }, this->options.token_cache, this->options.clock) {}

  std::string app_label() const { return options.app.empty() ? std::string("fcm") : "app " + options.app; }

  // The send once the access token (or why there is none) is known. `self` is this Impl, kept
  // alive by the request in flight.
  void send_with(common::Permit permit, const job::Notification& n, const std::string& token, TokenResponse access,
                 provider::SendHandler done, std::shared_ptr<Impl> self) {
    if (auto* failure = std::get_if<TokenError>(&access)) {
      job::SendOutcome outcome;
      outcome.reason = failure->reason;
      if (failure->kind == TokenError::Kind::credentials) {
        outcome.kind = OutcomeKind::credentials_error;
        credential_state.refused("the token endpoint refused the service account: " + failure->reason,
                                 failure->message);
      } else {
        outcome.kind = OutcomeKind::retry;
        logger->debug("{}: no access token for a send: {}", app_label(), failure->message);
      }
      return done(std::move(outcome));
    }
    std::string access_token = std::move(std::get<AccessToken>(access).value);
    auto built = build_fcm_request(n, token, account.project_id, access_token, options.clock());
    if (auto* refused = std::get_if<job::SendOutcome>(&built)) return done(std::move(*refused));
    auto& request = std::get<FcmRequest>(built);

    h2::Request h2_request;
    h2_request.method = "POST";
    h2_request.path = std::move(request.path);
    h2_request.body = std::move(request.body);
    h2_request.timeout = config.request_timeout;
    h2_request.headers.reserve(request.headers.size());
    for (auto& [name, value] : request.headers) h2_request.headers.push_back(h2::Header{std::move(name), std::move(value)});
    pool->async_request(std::move(permit), std::move(h2_request),
                        [self = std::move(self), access_token = std::move(access_token), token,
                         done = std::move(done)](h2::Result result) {
      done(self->outcome_of(result, access_token, token));
    });
  }

  job::SendOutcome outcome_of(const h2::Result& result, const std::string& access_token, const std::string& token) {
    job::SendOutcome outcome;
    if (result.ec) {
      outcome = provider::classify_transport_error(result.ec);
      logger->debug("{}: send to {} failed: {}", app_label(), log::token(token), outcome.reason);
      return outcome;
    }
    std::optional<std::string_view> retry_after;
    if (const std::string* header = result.response.find_header("retry-after")) retry_after = *header;
    outcome = classify_fcm_response(result.response.status, result.response.body, retry_after);

    if (outcome.status == 401 && outcome.reason == "UNAUTHENTICATED") {
      switch (tokens.invalidate(access_token)) {
        case AccessTokenCache::Invalidation::dropped:
          logger->info("{}: FCM refused the access token (401 UNAUTHENTICATED); fetching a new one", app_label());
          outcome.kind = OutcomeKind::retry;
          break;
        case AccessTokenCache::Invalidation::stale:  // sent with a token that is already replaced
          outcome.kind = OutcomeKind::retry;
          break;
        case AccessTokenCache::Invalidation::too_soon:  // a fresh token refused: credentials
          break;
      }
    }
    std::string detail;
    if (outcome.kind != OutcomeKind::delivered) {
      detail = describe_fcm_error(result.response.status, result.response.body);
      logger->debug("{}: send to {}: {}", app_label(), log::token(token), detail);
    }
    credential_state.observe(outcome, detail);
    return outcome;
  }

  // One POST to token_uri over a connection of its own: tokens are fetched about once an
  // hour, so keeping a connection open (and reconnecting it) in between would cost more.
  asio::awaitable<TokenResponse> fetch_token() {
    std::string assertion;
    try {
      assertion = make_assertion(account, options.clock());
    } catch (const CredentialsError& e) {
      TokenError error;
      error.kind = TokenError::Kind::credentials;
      error.reason = "assertion signing failed";
      error.message = e.what();
      co_return error;
    }
    if (!token_tls) co_return transient_token_error("oauth transport error", "the provider is not started");

    h2::ConnectionConfig connection_config;
    connection_config.host = account.token_endpoint.host;
    connection_config.port = account.token_endpoint.port;
    connection_config.ca_file = config.ca_file;
    connection_config.connect_timeout = options.connect_timeout;
    connection_config.request_timeout = config.request_timeout;
    connection_config.ping_interval = std::chrono::milliseconds(0);
    h2::Connection connection(executor, connection_config, token_tls);
    const auto ec = co_await connection.connect();
    if (ec) {
      const std::string detail = connection.last_error_detail();
      connection.close();
      co_return transient_token_error("oauth transport error: " + ec.message(), detail);
    }

    h2::Request request;
    request.method = "POST";
    request.path = account.token_endpoint.path;
    request.headers.push_back(h2::Header{"content-type", "application/x-www-form-urlencoded"});
    request.headers.push_back(h2::Header{"accept", "application/json"});
    request.body = token_request_body(assertion);
    const h2::Result result = co_await connection.async_request(request, asio::use_awaitable);
    connection.close();
    if (result.ec) co_return transient_token_error("oauth transport error: " + result.ec.message(), "");

    TokenResponse response = parse_token_response(result.response.status, result.response.body);
    if (const auto* token = std::get_if<AccessToken>(&response)) {
      logger->debug("{}: fetched an access token from {} (expires in {} s)", app_label(), account.token_uri,
                    token->expires_in.count());
    }
    co_return response;
  }

  asio::any_io_executor executor;
  const config::FcmConfig config;
  const ServiceAccount account;
  const ProviderOptions options;
  std::shared_ptr<spdlog::logger> logger;
  provider::CredentialState credential_state;
  std::shared_ptr<asio::ssl::context> token_tls;  // created by start()
  AccessTokenCache tokens;
  std::shared_ptr<h2::Pool> pool;                 // start_pool()'s, by start()
  std::atomic<bool> stopping{false};
};

Provider::Provider(asio::any_io_executor executor, config::FcmConfig config, ServiceAccount account,
                   ProviderOptions options)
    : provider::Provider(executor, job::Platform::android, "fcm", options.app),
      impl_(std::make_shared<Impl>(std::move(executor), std::move(config), std::move(account),
                                   std::move(options))) {}

Provider::~Provider() = default;

bool Provider::start(std::string* error) {
  auto& impl = *impl_;
  // The token endpoint is verified against the same ca_file (or the system store).
  h2::ConnectionConfig token_connection;
  token_connection.host = impl.account.token_endpoint.host;
  token_connection.port = impl.account.token_endpoint.port;
  token_connection.ca_file = impl.config.ca_file;
  std::string tls_error;
  auto token_tls = h2::make_tls_context(token_connection, &tls_error);
  if (!token_tls) {
    if (error) *error = "token_uri \"" + impl.account.token_uri + "\": " + tls_error;
    return false;
  }
  auto pool_config = provider::pool_config(impl.config, impl.options, error);
  if (!pool_config) return false;
  auto pool = start_pool(std::move(*pool_config), error);
  if (!pool) return false;
  impl.token_tls = std::move(token_tls);
  impl.pool = std::move(pool);
  impl.logger->info("{}: sending to {} over {} connection(s), {}, access tokens from {}", impl.app_label(),
                    impl.config.endpoint, impl.config.connections, impl.account.describe(), impl.account.token_uri);
  return true;
}

// Sends that wait for an access token see `stopping` and end as retries; the pool drains.
asio::awaitable<void> Provider::stop(std::chrono::milliseconds deadline) {
  impl_->stopping = true;
  co_await provider::Provider::stop(deadline);
}

namespace {

// FCM's message names the token inside the body, so a notification's sends share only the
// notification: it is copied once, for sends that may outlive the caller's.
struct FcmPrepared : provider::Prepared {
  job::Notification notification;
};

job::SendOutcome retry_outcome(std::string reason) {
  job::SendOutcome outcome;
  outcome.kind = OutcomeKind::retry;
  outcome.reason = std::move(reason);
  return outcome;
}

}  // namespace

std::shared_ptr<const provider::Prepared> Provider::prepare(const job::Notification& n) const {
  auto prepared = std::make_shared<FcmPrepared>();
  prepared->notification = n;
  return prepared;
}

// Per token: an access token (from the cache, at once unless one must be fetched), the request
// built for this token, one pool request, the answer classified. No coroutine unless a fetch
// is needed.
void Provider::send(common::Permit permit, std::shared_ptr<const provider::Prepared> any_prepared,
                    const std::string& token, provider::SendHandler done) {
  auto impl = impl_;
  if (!impl->pool || impl->stopping) return done(retry_outcome(impl->pool ? "FCM provider stopping" : "FCM provider not started"));
  if (token.empty()) {
    job::SendOutcome outcome;
    outcome.kind = OutcomeKind::rejected;
    outcome.reason = "MissingRegistration";
    return done(std::move(outcome));
  }
  // Made by prepare() above: the static cast is safe.
  auto prepared = std::static_pointer_cast<const FcmPrepared>(std::move(any_prepared));
  auto& tokens = impl->tokens;
  // The permit stays held while an access token is fetched: the send is under way.
  tokens.async_token([impl = std::move(impl), permit = std::move(permit), prepared = std::move(prepared),
                      token = std::string(token), done = std::move(done)](TokenResponse access) mutable {
    impl->send_with(std::move(permit), prepared->notification, token, std::move(access), std::move(done), impl);
  });
}

provider::Health Provider::health() const {
  return provider::health_of(impl_->credential_state, {}, impl_->pool.get(), impl_->account.describe());
}

std::uint64_t Provider::tokens_fetched() const { return impl_->tokens.tokens_fetched(); }

}  // namespace pushgw::fcm
