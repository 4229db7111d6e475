#include "pushgw/apns/provider.hpp"

#include <mutex>
#include <utility>

#include "pushgw/apns/error.hpp"
#include "pushgw/apns/reason.hpp"
#include "pushgw/apns/request.hpp"
#include "pushgw/log/log.hpp"
#include "pushgw/provider/pool_config.hpp"
#include "pushgw/provider/transport.hpp"

#include "pushgw/common/coroutine_warnings.hpp"  // last: GCC 12 false positive

namespace pushgw::apns {

using job::OutcomeKind;

struct Provider::Impl {
  Impl(boost::asio::any_io_executor executor, config::ApnsConfig config, Credentials credentials,
       ProviderOptions options)
      : executor(std::move(executor)),
        config(std::move(config)),
        credentials(std::move(credentials)),
        options(std::move(options)),
        logger(log::get("apns")),
        credential_state({"APNs", app_label(), this->credentials.describe(),
                          "auth (key_file, key_id, team_id or certificate), topic or endpoint"},
                         logger) {
    if (this->credentials.type == config::ApnsAuthConfig::Type::token && this->credentials.signing_key) {
      tokens.emplace(*this->credentials.signing_key, this->credentials.key_id, this->credentials.team_id,
                     this->options.token_cache, this->options.clock);
    }
  }

  std::string app_label() const { return options.app.empty() ? std::string("apns") : "app " + options.app; }

  // What the result of one send means, and what it says about the provider itself.
  job::SendOutcome outcome_of(const PreparedSend& prepared, const std::string& apns_id, const h2::Result& result) {
    job::SendOutcome outcome;
    if (result.ec) {
      outcome = provider::classify_transport_error(result.ec);
      outcome.provider_id = apns_id;
      logger->debug("{}: send with apns-id {} failed: {}", app_label(), apns_id, outcome.reason);
      return outcome;
    }
    std::optional<std::string_view> retry_after;
    if (const std::string* header = result.response.find_header("retry-after")) retry_after = *header;
    outcome = classify_apns_response(
        result.response.status, result.response.body, retry_after,
        ResponseContext{.topic_from_notification = prepared.request.topic_from_notification, .now = std::nullopt});
    // A broadcast's answer names the message in apns-unique-id; a device push's in apns-id.
    const std::string* echoed_id = result.response.find_header("apns-id");
    if (!prepared.request.broadcast_path.empty()) echoed_id = result.response.find_header("apns-unique-id");
    outcome.provider_id = echoed_id != nullptr ? *echoed_id : apns_id;
    observe(outcome);
    return outcome;
  }

  // Acts on what a response says about the provider itself (token age, credentials).
  void observe(const job::SendOutcome& outcome) {
    if (outcome.reason == "ExpiredProviderToken" && tokens) {
      if (tokens->on_expired_token_reported()) {
        logger->info("{}: APNs reported ExpiredProviderToken; minted a new provider token", app_label());
      } else {
        logger->debug("{}: ExpiredProviderToken for a token younger than {} s; keeping it", app_label(),
                      options.token_cache.min_refresh_interval.count());
      }
    }
    credential_state.observe(outcome);
  }

  boost::asio::any_io_executor executor;
  const config::ApnsConfig config;
  const Credentials credentials;
  const ProviderOptions options;
  std::shared_ptr<spdlog::logger> logger;
  std::optional<TokenCache> tokens;  // token auth only
  std::shared_ptr<h2::Pool> pool;    // start_pool()'s, by start()
  provider::CredentialState credential_state;
};

Provider::Provider(boost::asio::any_io_executor executor, config::ApnsConfig config, Credentials credentials,
                   ProviderOptions options)
    : provider::Provider(executor, job::Platform::ios, "apns", options.app),
      impl_(std::make_shared<Impl>(std::move(executor), std::move(config), std::move(credentials),
                                   std::move(options))) {}

Provider::~Provider() = default;

bool Provider::start(std::string* error) {
  auto& impl = *impl_;
  auto pool_config = provider::pool_config(impl.config, impl.options, error);
  if (!pool_config) return false;
  if (impl.credentials.type == config::ApnsAuthConfig::Type::certificate && impl.credentials.certificate) {
    // The certificate load_credentials already read and checked (PEM or PKCS#12 by content,
    // legacy ciphers, encrypted keys without a prompt), not the files read again.
    pool_config->connection.install_client_certificate = [certificate = *impl.credentials.certificate](SSL_CTX* context) {
      certificate.use_in(context);
    };
  }

  impl.pool = start_pool(std::move(*pool_config), error);
  if (!impl.pool) return false;
  impl.logger->info("{}: sending to {} over {} connection(s), {}", impl.app_label(), impl.config.endpoint,
                    impl.config.connections, impl.credentials.describe());
  if (impl.credentials.certificate) {
    if (auto problem = impl.credentials.certificate->validity_problem(std::chrono::system_clock::now())) {
      impl.logger->error("{}: {}", impl.app_label(), *problem);
    }
  }
  return true;
}

std::shared_ptr<const provider::Prepared> Provider::prepare(const job::Notification& n) const {
  auto& impl = *impl_;
  auto prepared = std::make_shared<PreparedSend>();
  std::string authorization;
  if (impl.tokens) {
    try {
      authorization = "bearer " + impl.tokens->token();
    } catch (const CredentialsError& e) {
      job::SendOutcome outcome;
      outcome.kind = OutcomeKind::credentials_error;
      outcome.reason = e.what();
      impl.credential_state.refused(outcome.reason);
      prepared->refusal = std::move(outcome);
      return prepared;
    }
  }

  auto built = prepare_apns_request(n, impl.config.topic, authorization);
  if (auto* refused = std::get_if<job::SendOutcome>(&built)) {
    prepared->refusal = std::move(*refused);
    return prepared;
  }
  prepared->request = std::move(std::get<ApnsPrepared>(built));
  auto& pairs = prepared->request.headers;
  prepared->headers.reserve(pairs.size());
  for (auto& [name, value] : pairs) prepared->headers.push_back({std::move(name), std::move(value)});
  pairs.clear();
  return prepared;
}

void Provider::send(common::Permit permit, std::shared_ptr<const provider::Prepared> any_prepared,
                    const std::string& device_token, provider::SendHandler done) {
  auto impl = impl_;
  // Made by prepare() above: the static cast is safe.
  auto prepared = std::static_pointer_cast<const PreparedSend>(std::move(any_prepared));
  const bool broadcast = !prepared->request.broadcast_path.empty();
  if (!broadcast) {
    if (auto refusal = check_device_token(device_token)) return done(std::move(*refusal));
  }
  if (prepared->refusal) return done(*prepared->refusal);
  if (!impl->pool) {
    job::SendOutcome outcome;
    outcome.kind = OutcomeKind::retry;
    outcome.reason = "APNs provider not started";
    return done(std::move(outcome));
  }

  h2::Request h2_request;
  h2_request.method = "POST";
  // A broadcast: the app's path (the same for every send) and the channel (the "token") in a
  // header.
  h2_request.path = broadcast ? prepared->request.broadcast_path : device_path(device_token);
  h2_request.unique_path = !broadcast;
  if (broadcast) h2_request.headers.push_back({"apns-channel-id", device_token, false});
  // Aliasing pointers: they keep `prepared` alive and point into it.
  h2_request.shared_headers = std::shared_ptr<const std::vector<h2::Header>>(prepared, &prepared->headers);
  h2_request.shared_body = std::shared_ptr<const std::string>(prepared, &prepared->request.body);
  h2_request.timeout = impl->config.request_timeout;
  const std::string& fixed_id = prepared->request.fixed_apns_id;
  std::string apns_id = fixed_id.empty() ? new_apns_id() : fixed_id;
  h2_request.headers.push_back({broadcast ? "apns-request-id" : "apns-id", apns_id, fixed_id.empty()});

  auto& pool = *impl->pool;
  pool.async_request(std::move(permit), std::move(h2_request), [impl = std::move(impl), prepared = std::move(prepared),
                                      apns_id = std::move(apns_id), done = std::move(done)](h2::Result result) {
    done(impl->outcome_of(*prepared, apns_id, result));
  });
}

provider::Health Provider::health() const {
  const auto& impl = *impl_;
  const std::string expired = impl.credentials.certificate
                                  ? impl.credentials.certificate->validity_problem(std::chrono::system_clock::now())
                                        .value_or("")
                                  : std::string();
  return provider::health_of(impl.credential_state, expired, impl.pool.get(), impl.credentials.describe());
}

std::uint64_t Provider::tokens_minted() const { return impl_->tokens ? impl_->tokens->tokens_minted() : 0; }

}  // namespace pushgw::apns
