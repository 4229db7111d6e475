#pragma once
// The job handler: turns one element from a processing list into sends and one ack.
//
//   decode (malformed → dead-letter with the parse error) → per notification: validate
//   (→ dead-letter), send_at in the future (→ retry ZSET), idempotency claim (`id` already sent
//   → skipped), drop tokens marked inactive (one HMGET) → fan out one send per token under
//   the provider pool's max_inflight → plan (plan.hpp) → mark dead tokens → ack: remove the
//   element and write its retries and dead letters in one script. While the sends go on,
//   checkpoints (queue.checkpoint_interval) do the same for the outcomes answered so far and
//   replace the element by the tokens still in progress: a crash re-sends only those.
//
// Redis being unreachable never loses the job: each step is retried with backoff until it
// works or the job's stop signal is emitted (the consumer does at the shutdown deadline; then
// nothing is acked, and the element is still in the processing list and goes back to the
// queue). Nothing here throws for bad input, and an unexpected failure while
// handling an element counts against that element (tried again later, dead-lettered after
// max_failures), never against the worker or the instance.
//
// Threading: everything runs on the executor given to the constructor (one thread) but the
// sends, which run on their provider's executor (another thread, with queue.send_threads).

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/cancellation_signal.hpp>

#include "pushgw/config/config.hpp"
#include "pushgw/feedback/inactive_tokens.hpp"
#include "pushgw/job/notification.hpp"
#include "pushgw/job/outcome.hpp"
#include "pushgw/job/validate.hpp"
#include "pushgw/metrics/pushgw_metrics.hpp"
#include "pushgw/provider/provider.hpp"
#include "pushgw/queue/job_store.hpp"

namespace pushgw::dispatch {

struct DispatcherConfig {
  config::RetriesConfig retries;
  std::chrono::milliseconds idempotency_ttl{86400000};
  job::ValidationContext validation;
  std::string instance;  // for dead-letter entries
  // An element whose handling fails unexpectedly (not bad input: a bug, out of memory) is
  // tried again after a backoff, and dead-lettered after this many failures
  // (queue.max_redeliveries, as for jobs whose instances died holding them).
  std::size_t max_failures = 5;
  // queue.checkpoint_interval: while a notification's sends go on, the outcomes answered are
  // written to Redis this often (the element replaced by the tokens still without one). 0 = off.
  std::chrono::milliseconds checkpoint_interval{1000};
  // Flow control per (app, platform): rate_limit sends/s (0 = none) and the breaker (its
  // error_ratio 0 = none); a provider not listed has neither.
  struct ProviderFlow {
    std::size_t rate_limit = 0;
    config::BreakerConfig breaker{.error_ratio = 0};
  };
  std::map<std::pair<std::string, job::Platform>, ProviderFlow> flow;
  // Jobs of an app sending at once (apps.<app>.max_workers, resolved); absent or 0: no cap.
  std::map<std::string, std::size_t> app_max_workers;

  static DispatcherConfig from_config(const config::Config& config, std::string instance);
};

class Dispatcher {
 public:
  Dispatcher(boost::asio::any_io_executor executor, queue::JobStore& store, feedback::InactiveTokens& inactive,
             metrics::PushgwMetrics& metrics, DispatcherConfig config);
  ~Dispatcher();
  Dispatcher(const Dispatcher&) = delete;
  Dispatcher& operator=(const Dispatcher&) = delete;

  // Registers a started provider (for its app and platform); its sends in flight are bounded by
  // its own permits (send_permits()). It must outlive the dispatcher's jobs. Call before the
  // first handle().
  void add_provider(provider::Provider& provider);

  // How many more jobs it can start soon (queue::ConsumerConfig::room): room for tokens in
  // progress below twice what its providers can have in flight together, in jobs of the
  // average size it has seen; at least 1 while there is any room, 0 when there is none.
  std::size_t room() const;

  // Flow control as it stands, for /readyz: one entry per provider.
  struct FlowState {
    std::string app;
    std::string provider;      // apns, fcm, web
    std::string breaker;       // closed, open, half_open, or off
    std::size_t rate_limit;    // sends/s, 0 = none
    std::size_t jobs_sending;  // of the app
    std::size_t max_workers;   // of the app, 0 = no cap
  };
  std::vector<FlowState> flow_state() const;

  // The queue::JobHandler. A cancellation emitted on `stop` makes the job's Redis retries give
  // up (a step under way finishes first): the job then returns without an ack, its element left
  // in the processing list.
  boost::asio::awaitable<void> handle(queue::Lane lane, std::string element,
                                      boost::asio::cancellation_slot stop = {});

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace pushgw::dispatch
