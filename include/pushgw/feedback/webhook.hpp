#pragma once
// The feedback webhook (DESIGN.md §5 "Feedback"): with feedback.webhook.url set, pushgw is the
// consumer of pushgw:feedback and POSTs its events in batches, signed:
//
//   POST <url>   Content-Type: application/json
//   X-Pushgw-Timestamp: <unix s>
//   X-Pushgw-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>
//   {"events": [{"app","platform","token","reason","at",...}, ...]}
//
// At least once, never lost: one instance at a time sends (a lease in Redis). It moves up to
// `batch` of the oldest events into a batch list in one script, POSTs them, and deletes the
// batch only after a 2xx. Anything else (a 4xx or 5xx, garbage, a timeout, no connection) is
// logged, counted and retried with backoff; the batch waits in Redis meanwhile, and new events
// keep accumulating on the capped list as they always did. An instance that dies mid-batch
// leaves the batch behind: the next lease holder sends it first. The send path never waits for
// any of this.
//
// Threading: one executor; start() and stop() from it.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "pushgw/common/url.hpp"
#include "pushgw/config/config.hpp"
#include "pushgw/metrics/pushgw_metrics.hpp"
#include "pushgw/queue/instance_registry.hpp"
#include "pushgw/queue/keys.hpp"
#include "pushgw/redis/client.hpp"

namespace pushgw::feedback {

// "sha256=<hex>" of HMAC-SHA256(secret, "<timestamp>.<body>"): the X-Pushgw-Signature value.
std::string webhook_signature(std::string_view secret, std::int64_t timestamp_s, std::string_view body);

// The request body for a batch of stored events (JSON texts, oldest first). An event that is
// not a JSON object (written to the list by hand) goes as {"malformed": "<its text>"}, so the
// receiver sees it rather than losing it; `malformed` counts them.
std::string webhook_body(const std::vector<std::string>& events, std::size_t* malformed = nullptr);

class WebhookSender {
 public:
  // `registry` names this instance for the lease. The url must parse (config checked it).
  WebhookSender(boost::asio::any_io_executor executor, redis::Client& redis, queue::FeedbackKeys keys,
                queue::InstanceRegistry& registry, config::WebhookConfig config, metrics::PushgwMetrics& metrics);
  ~WebhookSender();
  WebhookSender(const WebhookSender&) = delete;
  WebhookSender& operator=(const WebhookSender&) = delete;

  void start();
  // Ends the loop: a wait is cut short, a request in flight finishes (within timeout). A batch
  // not acknowledged stays in Redis for the next sender.
  boost::asio::awaitable<void> stop();

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace pushgw::feedback
