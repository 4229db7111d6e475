#include "pushgw/feedback/webhook.hpp"

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>

#include "pushgw/common/async.hpp"
#include "pushgw/common/backoff.hpp"
#include "pushgw/common/hmac.hpp"
#include "pushgw/common/quote.hpp"
#include "pushgw/log/log.hpp"
#include "pushgw/queue/scripts.hpp"

namespace pushgw::feedback {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using boost::system::error_code;
using std::chrono::milliseconds;

std::string webhook_signature(std::string_view secret, std::int64_t timestamp_s, std::string_view body) {
  const std::string mac = common::hmac_sha256(secret, std::to_string(timestamp_s) + "." + std::string(body));
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "sha256=";
  for (const char c : mac) {
    const auto byte = static_cast<unsigned char>(c);
    out += kHex[byte >> 4];
    out += kHex[byte & 0xf];
  }
  return out;
}

std::string webhook_body(const std::vector<std::string>& events, std::size_t* malformed) {
  std::string body = "{\"events\":[";
  for (std::size_t i = 0; i < events.size(); ++i) {
    if (i > 0) body += ',';
    if (nlohmann::json::accept(events[i]) && !events[i].empty() && events[i].front() == '{') {
      body += events[i];  // stored by pushgw as compact JSON: passed through as is
    } else {
      body += nlohmann::json({{"malformed", events[i]}}).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      if (malformed) ++*malformed;
    }
  }
  return body + "]}";
}

namespace {

std::int64_t unix_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// One POST's outcome, as the metric's label says it.
struct PostResult {
  const char* outcome = "error";  // ok | refused | timeout | unreachable | error
  std::string detail;             // for the log line
};

}  // namespace

struct WebhookSender::Impl : std::enable_shared_from_this<Impl> {
  Impl(asio::any_io_executor executor, redis::Client& redis, queue::FeedbackKeys keys, queue::InstanceRegistry& registry,
       config::WebhookConfig config, metrics::PushgwMetrics& metrics)
      : executor(executor),
        redis(redis),
        keys(std::move(keys)),
        registry(registry),
        config(std::move(config)),
        url(*common::parse_url(this->config.url)),
        metrics(metrics),
        wake(executor),
        tls(asio::ssl::context::tls_client),
        logger(log::get("feedback")) {
    tls.set_default_verify_paths();
    tls.set_verify_mode(asio::ssl::verify_peer);
  }

  // Sleeps `d`, or less when stop() wakes the loop.
  asio::awaitable<void> sleep(milliseconds d) {
    wake.expires_after(d);
    co_await wake.async_wait(asio::as_tuple(asio::use_awaitable));
  }

  // The lease outlives a request and the waits around it, so a slow webhook does not hand the
  // batch to a second instance while the first is still sending it.
  milliseconds lease_ttl() const { return 2 * config.timeout + 2 * config.interval + milliseconds(1000); }

  asio::awaitable<void> run() {
    common::BackoffSequence backoff(common::Backoff{milliseconds(1000), milliseconds(60000)});
    bool failing = false;
    while (!stopping) {
      milliseconds pause = config.interval;
      try {
        pause = co_await step(backoff, failing);
      } catch (const std::exception& e) {
        // Not expected (out of memory): the batch is still in Redis, so try again later.
        logger->error("feedback webhook: {}; trying again", e.what());
        pause = backoff.next();
      }
      if (stopping) break;
      if (pause.count() > 0) co_await sleep(pause);
    }
  }

  // One round: count what waits, take the lease, send the batch. Returns how long to wait
  // before the next round (0: at once, a full batch went and more may wait).
  asio::awaitable<milliseconds> step(common::BackoffSequence& backoff, bool& failing) {
    co_await count_waiting();
    auto [lease_ec, held] = co_await registry.take_lease(keys.webhook_lease(), lease_ttl());
    if (lease_ec || !held) co_return config.interval;  // another instance sends (or Redis is away)

    auto [batch_ec, batch] = co_await take_batch();
    if (batch_ec) {
      logger->warn("feedback webhook: cannot read the events from Redis: {}", batch_ec.message());
      co_return backoff.next();
    }
    if (batch.empty()) co_return config.interval;

    std::size_t malformed = 0;
    const std::string body = webhook_body(batch, &malformed);
    if (malformed > 0) {
      logger->warn("feedback webhook: {} event(s) on {} are not JSON objects; sent as {{\"malformed\": text}}",
                   malformed, keys.events());
    }
    const PostResult result = co_await post(body);
    metrics.webhook_requests.with({result.outcome}).inc();
    if (std::string_view(result.outcome) != "ok") {
      const milliseconds delay = backoff.next();
      // Once per streak at warn, then at debug: an unreachable webhook must not flood the log.
      if (!failing) {
        logger->warn("feedback webhook {}: {}; the batch of {} event(s) waits in Redis, retrying with backoff",
                     config.url, result.detail, batch.size());
      } else {
        logger->debug("feedback webhook {}: {}; retrying in {} ms", config.url, result.detail, delay.count());
      }
      failing = true;
      co_return delay;
    }
    if (failing) logger->info("feedback webhook {} accepts events again", config.url);
    failing = false;
    backoff.reset();
    // Acknowledged: the batch goes. Should this fail, the batch is sent again (at least once).
    redis::Request done;
    done.push("DEL", keys.webhook_batch());
    auto deleted = co_await redis.exec(std::move(done));
    if (deleted.ec) {
      logger->warn("feedback webhook: a delivered batch could not be removed from Redis ({}); it will be sent again",
                   deleted.ec.message());
      co_return backoff.next();
    }
    metrics.webhook_events.with({}).inc(static_cast<double>(batch.size()));
    co_return batch.size() >= config.batch ? milliseconds(0) : config.interval;
  }

  // The batch a sender left unacknowledged, else up to `batch` of the oldest events moved into
  // the batch list; oldest first either way.
  asio::awaitable<std::pair<error_code, std::vector<std::string>>> take_batch() {
    redis::Request left;
    left.push("LRANGE", keys.webhook_batch(), "0", "-1");
    auto result = co_await redis.exec(std::move(left));
    if (result.ec) co_return std::pair{result.ec, std::vector<std::string>{}};
    std::vector<std::string> batch;
    const auto& reply = result.replies.at(0);
    if (reply.type != redis::Reply::Type::array) co_return std::pair{unexpected(), batch};
    // The batch list holds the newest at its head, as the events list it came from.
    for (auto it = reply.elements.rbegin(); it != reply.elements.rend(); ++it) batch.push_back(it->str);
    if (!batch.empty()) co_return std::pair{error_code{}, std::move(batch)};

    const std::vector<std::string> lists{keys.events(), keys.webhook_batch()};  // named: GCC 12
    const std::vector<std::string> count{std::to_string(config.batch)};
    auto [ec, taken] = co_await queue::eval_script(redis, queue::take_script(), lists, count);
    if (ec) co_return std::pair{ec, batch};
    if (taken.type != redis::Reply::Type::array) co_return std::pair{unexpected(), batch};
    for (auto& element : taken.elements) batch.push_back(std::move(element.str));
    co_return std::pair{error_code{}, std::move(batch)};
  }

  asio::awaitable<void> count_waiting() {
    redis::Request request;
    request.push("LLEN", keys.events());
    request.push("LLEN", keys.webhook_batch());
    auto result = co_await redis.exec(std::move(request));
    if (result.ec) co_return;
    double waiting = 0;
    for (const auto& reply : result.replies) waiting += static_cast<double>(reply.integer);
    metrics.feedback_events_waiting.with({}).set(waiting);
  }

  static error_code unexpected() { return redis::make_error_code(redis::error::unexpected_reply); }

  // POSTs `body` over a new connection (webhooks see little traffic; a connection per batch
  // spares us stale keep-alive handling), all within config.timeout.
  asio::awaitable<PostResult> post(const std::string& body) {
    http::request<http::string_body> request{http::verb::post, url.target, 11};
    request.set(http::field::host, url.host);
    request.set(http::field::user_agent, "pushgw");
    request.set(http::field::content_type, "application/json");
    const std::int64_t timestamp = unix_seconds();
    request.set("X-Pushgw-Timestamp", std::to_string(timestamp));
    request.set("X-Pushgw-Signature", webhook_signature(config.secret, timestamp, body));
    request.body() = body;
    request.prepare_payload();

    asio::ip::tcp::resolver resolver(executor);
    beast::tcp_stream tcp(executor);
    tcp.expires_after(config.timeout);
    auto [resolve_ec, endpoints] = co_await resolver.async_resolve(url.host, std::to_string(url.port),
                                                                   asio::as_tuple(asio::use_awaitable));
    if (resolve_ec) co_return PostResult{"unreachable", "cannot resolve " + url.host + ": " + resolve_ec.message()};
    auto [connect_ec, endpoint] = co_await tcp.async_connect(endpoints, asio::as_tuple(asio::use_awaitable));
    if (connect_ec) co_return failure(connect_ec, "cannot connect");

    if (url.scheme == "http") co_return co_await exchange(tcp, request);
    beast::ssl_stream<beast::tcp_stream> stream(std::move(tcp), tls);
    // SNI, and the certificate must name the host.
    if (!SSL_set_tlsext_host_name(stream.native_handle(), url.host.c_str())) {
      co_return PostResult{"error", "cannot set the TLS server name"};
    }
    stream.set_verify_callback(asio::ssl::host_name_verification(url.host));
    auto [handshake] = co_await stream.async_handshake(asio::ssl::stream_base::client, asio::as_tuple(asio::use_awaitable));
    if (handshake) co_return failure(handshake, "TLS handshake failed");
    PostResult result = co_await exchange(stream, request);
    // Closing politely is not worth waiting for: the answer is in.
    beast::get_lowest_layer(stream).close();
    co_return result;
  }

  template <class Stream>
  asio::awaitable<PostResult> exchange(Stream& stream, http::request<http::string_body>& request) {
    auto [write_ec, written] = co_await http::async_write(stream, request, asio::as_tuple(asio::use_awaitable));
    if (write_ec) co_return failure(write_ec, "sending the request failed");
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(64 * 1024);  // only the status matters; a huge answer is an error
    auto [read_ec, read] = co_await http::async_read(stream, buffer, parser, asio::as_tuple(asio::use_awaitable));
    if (read_ec) co_return failure(read_ec, "no valid HTTP answer");
    const auto& response = parser.get();
    const unsigned status = response.result_int();
    if (status >= 200 && status < 300) co_return PostResult{"ok", {}};
    co_return PostResult{"refused", "answered " + std::to_string(status) + " " + common::quote(response.body(), 100)};
  }

  static PostResult failure(const error_code& ec, std::string_view what) {
    if (ec == beast::error::timeout) return PostResult{"timeout", std::string(what) + ": timed out"};
    if (ec == asio::error::connection_refused || ec == asio::error::host_unreachable ||
        ec == asio::error::network_unreachable) {
      return PostResult{"unreachable", std::string(what) + ": " + ec.message()};
    }
    return PostResult{"error", std::string(what) + ": " + ec.message()};
  }

  asio::any_io_executor executor;
  redis::Client& redis;
  queue::FeedbackKeys keys;
  queue::InstanceRegistry& registry;
  const config::WebhookConfig config;
  const common::Url url;
  metrics::PushgwMetrics& metrics;
  asio::steady_timer wake;
  asio::ssl::context tls;
  bool stopping = false;
  bool running = false;
  std::unique_ptr<common::WaitGroup> done;
  std::shared_ptr<spdlog::logger> logger;
};

WebhookSender::WebhookSender(asio::any_io_executor executor, redis::Client& redis, queue::FeedbackKeys keys,
                             queue::InstanceRegistry& registry, config::WebhookConfig config,
                             metrics::PushgwMetrics& metrics)
    : impl_(std::make_shared<Impl>(std::move(executor), redis, std::move(keys), registry, std::move(config), metrics)) {}

WebhookSender::~WebhookSender() = default;

void WebhookSender::start() {
  auto& impl = *impl_;
  if (impl.running) return;
  impl.running = true;
  impl.done = std::make_unique<common::WaitGroup>(impl.executor);
  impl.done->add();
  impl.logger->info("feedback webhook: sending events from {} to {} in batches of up to {}", impl.keys.events(),
                    impl.config.url, impl.config.batch);
  asio::co_spawn(impl.executor, impl.run(), [self = impl_](std::exception_ptr) { self->done->done(); });
}

asio::awaitable<void> WebhookSender::stop() {
  auto impl = impl_;
  impl->stopping = true;
  impl->wake.cancel();
  if (impl->done) co_await impl->done->wait(std::chrono::steady_clock::time_point::max());
}

}  // namespace pushgw::feedback
