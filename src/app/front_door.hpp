#pragma once
// The front door's routes: POST /push and /api/push store notifications as Redis jobs;
// GET and DELETE /tokens/{platform}/{token} read and clear a token's inactive mark;
// /healthz, /readyz and /metrics serve operators. Validation and the JSON shapes live in the
// api module; this file only wires them to Redis and HTTP.

#include <boost/asio/awaitable.hpp>
#include <nlohmann/json.hpp>

#include <array>
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "pushgw/config/config.hpp"
#include "pushgw/feedback/inactive_tokens.hpp"
#include "pushgw/http/server.hpp"
#include "pushgw/job/notification.hpp"
#include "pushgw/job/validate.hpp"
#include "pushgw/metrics/metrics.hpp"
#include "pushgw/metrics/pushgw_metrics.hpp"
#include "pushgw/queue/job_store.hpp"
#include "pushgw/queue/producer.hpp"
#include "pushgw/redis/client.hpp"

namespace pushgw::app {

// One provider's credential health for /readyz: "ok", or what is wrong.
struct ProviderCheck {
  std::string name;                       // "apns:demo"
  std::function<std::string()> problem;   // empty when healthy
};

class FrontDoor {
 public:
  // `store` answers the queue depths; `before_scrape` refreshes the gauges that other
  // components own (provider connections and health) before /metrics renders.
  FrontDoor(const config::Config& config, redis::Client& redis, metrics::PushgwMetrics& metrics,
            metrics::Registry& registry, queue::JobStore& store, feedback::InactiveTokens& inactive,
            std::vector<ProviderCheck> checks, std::function<void()> before_scrape,
            std::function<nlohmann::json()> flow_state = {});

  std::vector<http::Route> routes();

 private:
  // 503 for jobs not stored; 504 with "stored": "unknown" when the request reached Redis but
  // no reply came, so the jobs may be stored.
  static http::Response store_failure(const queue::Enqueued& failure, bool gorush);

  boost::asio::awaitable<http::Response> push(const http::Request& request);
  boost::asio::awaitable<http::Response> gorush_push(const http::Request& request);
  boost::asio::awaitable<http::Response> token_state(const http::Request& request);
  boost::asio::awaitable<http::Response> token_reactivate(const http::Request& request);
  boost::asio::awaitable<http::Response> ready(const http::Request& request);
  boost::asio::awaitable<http::Response> metrics_text(const http::Request& request);

  // Validated notifications' jobs → Redis, all or none (queue::Producer).
  boost::asio::awaitable<queue::Enqueued> store(const std::vector<job::Notification>& jobs, std::int64_t now_ms);
  // Refreshes queue_depth / processing_depth / retry_depth per lane (skipped while Redis is
  // down).
  boost::asio::awaitable<void> refresh_queue_gauges();
  std::string redis_mode() const;  // "single" or "sentinel"
  // limits.max_queue_depth: a 429 when a lane the jobs go to holds more jobs; nullopt when
  // they may be stored. The depths are read at most kDepthMaxAge before (one read at a time,
  // the other requests use the last), so a burst can pass the limit by that much intake.
  boost::asio::awaitable<std::optional<http::Response>> over_depth(const std::vector<job::Notification>& jobs,
                                                                   bool gorush);
  static constexpr std::chrono::milliseconds kDepthMaxAge{250};

  const config::Config& config_;
  std::string redis_server_shown_;   // the server pushgw_redis_server shows as 1
  redis::Client& redis_;
  metrics::PushgwMetrics& metrics_;
  metrics::Registry& registry_;
  queue::JobStore& store_;
  feedback::InactiveTokens& inactive_;
  std::vector<ProviderCheck> checks_;
  std::function<void()> before_scrape_;
  std::function<nlohmann::json()> flow_state_;  // /readyz's "flow" (breakers, caps); not readiness
  job::ValidationContext validation_;
  queue::Producer producer_;
  std::array<std::int64_t, queue::Lane::kCount> lane_depth_{};  // jobs waiting, per lane index
  std::chrono::steady_clock::time_point depth_read_at_{};
  bool depth_reading_ = false;
};

}  // namespace pushgw::app
