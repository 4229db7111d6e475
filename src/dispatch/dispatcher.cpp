#include "pushgw/dispatch/dispatcher.hpp"

#include <boost/asio.hpp>

#include <array>
#include <functional>
#include <mutex>
#include <random>
#include <vector>

#include "pushgw/api/push_request.hpp"
#include "pushgw/common/async.hpp"
#include "pushgw/common/handoff.hpp"
#include "pushgw/common/quote.hpp"
#include "pushgw/common/retry.hpp"
#include "pushgw/fcm/message.hpp"
#include "pushgw/dispatch/plan.hpp"
#include "pushgw/job/codec.hpp"
#include "pushgw/job/split.hpp"
#include "pushgw/log/log.hpp"
#include "pushgw/queue/backoff.hpp"
#include "pushgw/queue/element.hpp"
#include "pushgw/queue/keys.hpp"

namespace pushgw::dispatch {

namespace asio = boost::asio;
using boost::system::error_code;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

using provider::Prepared;

namespace {

std::int64_t unix_ms() {
  return std::chrono::duration_cast<milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// The job id of an element for a log line: its job.id when it has one, else the id derived
// from its text (what a redelivery would give it).
std::string log_job_id(std::string_view element) {
  constexpr std::string_view kKey = "\"job\":{\"id\":\"";
  if (const auto at = element.find(kKey); at != std::string_view::npos) {
    const auto start = at + kKey.size();
    const auto end = element.find('"', start);
    if (end != std::string_view::npos && end - start <= job::kMaxJobIdLength) {
      return std::string(element.substr(start, end - start));
    }
  }
  return queue::element_job_id(element);
}

// Provider reasons become metric labels: keep them to plain words so the series stay bounded
// even if a provider invents new reasons.
std::string reason_label(const std::string& reason) {
  if (reason.empty() || reason.size() > 40) return "other";
  for (char c : reason) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return "other";
  }
  return reason;
}

using common::Handoff;

}  // namespace

DispatcherConfig DispatcherConfig::from_config(const config::Config& config, std::string instance) {
  DispatcherConfig out;
  out.retries = config.retries;
  out.idempotency_ttl = config.queue.idempotency_ttl;
  out.validation = job::ValidationContext::from_config(config);
  out.instance = std::move(instance);
  out.max_failures = config.queue.max_redeliveries;
  return out;
}

struct Dispatcher::Impl {
  struct Provider {
    provider::Provider* target = nullptr;
    asio::any_io_executor executor;              // target->executor()
    // target->send_permits(): the provider pool's max_inflight, the one count of its sends in
    // flight; null for a provider that was not started (its sends fail at once).
    common::Semaphore* permits = nullptr;
    std::unique_ptr<Handoff> to_provider;        // onto `executor`
    // This provider's series, found once rather than per send.
    metrics::Gauge* inflight = nullptr;
    metrics::Counter* unanswered = nullptr;
    metrics::Histogram* duration = nullptr;
    std::array<metrics::Counter*, job::kOutcomeKinds> outcomes{};
  };

  Impl(asio::any_io_executor executor, queue::JobStore& store, feedback::InactiveTokens& inactive,
       metrics::PushgwMetrics& metrics, DispatcherConfig config)
      : executor(executor), store(store), inactive(inactive), metrics(metrics), config(std::move(config)),
        to_main(this->executor), rng(std::random_device{}()), logger(log::get("dispatch")) {}

  // One element being handled: where it came from, what its ack will write, and its stop
  // signal (the consumer's, emitted at the shutdown deadline).
  struct Job {
    Job(queue::Lane lane, asio::cancellation_slot stop) : lane(lane), cancel(stop) {}
    bool cancelled() const { return cancel.cancelled() != asio::cancellation_type::none; }

    queue::Lane lane;
    queue::AckPlan ack;
    asio::cancellation_state cancel;
  };

  // Retries a Redis step with backoff until it succeeds; false once the job is cancelled (its
  // sleep ends at once; a step under way is let finish, so its outcome is known).
  // `failed`: the caller's own first attempt failed so (the hot path tries once itself, which
  // saves this coroutine and the step's when Redis answers).
  template <class Step>
  asio::awaitable<bool> until_done(Job& job, Step step, const char* what, error_code failed = {}) {
    const error_code ec = co_await common::retry_until_done(
        std::move(step), common::Backoff{milliseconds(100), milliseconds(2000)}, [&job] { return job.cancelled(); },
        [this, what](const error_code& ec, unsigned failures) {
          if (failures == 1) logger->warn("{}: {}; retrying until Redis answers", what, ec.message());
        },
        failed, job.cancel.slot());
    co_return !ec;
  }

  void dead_letter(queue::AckPlan& ack, queue::Lane lane, std::string_view job_text, queue::DeadReason reason,
                   std::string error) {
    queue::DeadLetter letter;
    letter.reason = reason;
    letter.error = std::move(error);
    letter.lane = std::string(lane.name());
    letter.instance = config.instance;
    letter.at_ms = unix_ms();
    ack.dead.push_back(queue::dead_letter_entry(job_text, letter));
    metrics.dead_letters.with({letter.lane, std::string(queue::to_string(reason))}).inc();
    logger->warn("lane {}: dead-lettered a job ({}): {}", letter.lane, queue::to_string(reason), letter.error);
  }

  // One notification's sends on its provider's executor: one send per token, each holding one
  // of the provider's permits (at most its pool's max_inflight at once), every result filled,
  // then `finished` once. A fan-out waits for a permit as one waiter, not one per token (a
  // request built and queued per token would hold workers × tokens of memory). Sends start
  // from callbacks, also after waiting for a permit (a notification used to cost a co_spawn, a
  // wait group and its timer here, and each token that waited a coroutine).
  struct FanOut : std::enable_shared_from_this<FanOut> {
    using Finished = std::function<void(std::exception_ptr)>;
    FanOut(Impl& impl, Provider& provider, const job::Notification& n, std::vector<TokenResult>& results,
           Finished finished)
        : impl(impl), provider(provider), n(n), results(results), finished(std::move(finished)) {}

    void start() {
      try {
        prepared = provider.target->prepare(n);
      } catch (...) {
        failure = std::current_exception();
        next = results.size();  // nothing sent: finish at once
      }
      pump();
    }

    // Starts sends while permits are free; when they are not, queues for one and goes on from
    // there once it is handed over.
    void pump() {
      pumping = true;
      while (next < results.size()) {
        common::Semaphore* permits = provider.permits;
        if (!permits) {
          start_send(results[next++], common::Permit());
          continue;
        }
        // The callback (an allocation) is made only when the permit is not free now.
        const bool now = permits->try_acquire() || permits->acquire_or_queue([self = shared_from_this(), permits] {
                           self->start_send(self->results[self->next++], permits->adopt());
                           self->pump();
                         });
        if (!now) break;
        start_send(results[next++], permits->adopt());
      }
      pumping = false;
      finish_if_done();
    }

    void start_send(TokenResult& result, common::Permit permit) {
      ++pending;
      provider.inflight->inc();
      const auto start = steady_clock::now();
      try {
        provider.target->async_send(std::move(permit), prepared, result.token, [self = shared_from_this(), &result, start](
                                                                 job::SendOutcome outcome) {
          self->answered(result, start, std::move(outcome));
        });
      } catch (const std::exception& e) {
        // A provider throws only before it starts the send (out of memory): retry the token.
        impl.logger->error("send to {} failed: {}", log::token(result.token), e.what());
        answered(result, start, job::internal_error_outcome());
      }
    }

    void answered(TokenResult& result, steady_clock::time_point start, job::SendOutcome outcome) {
      result.outcome = std::move(outcome);
      provider.inflight->dec();
      provider.duration->observe(std::chrono::duration<double>(steady_clock::now() - start).count());
      provider.outcomes[static_cast<std::size_t>(result.outcome.kind)]->inc();
      if (result.outcome.unanswered) provider.unanswered->inc();
      --pending;
      finish_if_done();
    }

    // A send may answer inside send() (a refused token): only the last answer, outside the
    // loop that starts them, finishes.
    void finish_if_done() {
      if (pumping || pending > 0 || next < results.size() || !finished) return;
      auto call = std::move(finished);
      finished = nullptr;
      call(failure);
    }

    Impl& impl;
    Provider& provider;
    const job::Notification& n;
    std::vector<TokenResult>& results;
    Finished finished;
    std::shared_ptr<const Prepared> prepared;
    std::size_t next = 0;     // the next token to start
    std::size_t pending = 0;  // started, not answered
    bool pumping = false;
    std::exception_ptr failure;
  };

  // The fan-out from the job's coroutine. On the provider's own executor (queue.send_threads:
  // 0) it starts at once; on a send thread both hops go through a Handoff, so that under load
  // one wake-up of each thread carries many notifications.
  asio::awaitable<void> fan_out(Provider& provider, const job::Notification& n, std::vector<TokenResult>& results) {
    const bool here = provider.executor == executor;
    auto start = [&](std::function<void(std::exception_ptr)> done) {
      if (here) {
        std::make_shared<FanOut>(*this, provider, n, results, std::move(done))->start();
        return;
      }
      provider.to_provider->run([this, &provider, &n, &results, done = std::move(done)]() mutable {
        std::make_shared<FanOut>(*this, provider, n, results, [this, done = std::move(done)](std::exception_ptr e) {
          to_main.run([done, e] { done(e); });
        })->start();
      });
    };
    if (auto failure = co_await common::await_callback<std::exception_ptr>(start)) std::rethrow_exception(failure);
  }

  // A traced notification's outcomes, with the provider's message id (apns-id, FCM message
  // name): the first kTracedTokens tokens one line each, then a count per outcome.
  void log_traced_outcomes(const job::Notification& n, const std::vector<TokenResult>& results) {
    constexpr std::size_t kTracedTokens = 20;
    std::array<std::size_t, job::kOutcomeKinds> counts{};
    for (std::size_t i = 0; i < results.size(); ++i) {
      const auto& o = results[i].outcome;
      ++counts[static_cast<std::size_t>(o.kind)];
      if (i >= kTracedTokens) continue;
      logger->info("trace {}: job {} token {}: {} (HTTP {}){}{}", *n.trace_id, n.job->id, log::token(results[i].token),
                   job::to_string(o.kind), o.status, o.provider_id.empty() ? "" : " id " + o.provider_id,
                   o.reason.empty() ? "" : ": " + common::quote(o.reason, 80));
    }
    if (results.size() <= kTracedTokens) return;
    std::string summary;
    for (std::size_t kind = 0; kind < counts.size(); ++kind) {
      if (counts[kind] == 0) continue;
      summary += (summary.empty() ? "" : ", ") + std::to_string(counts[kind]) + " " +
                 std::string(job::to_string(static_cast<job::OutcomeKind>(kind)));
    }
    logger->info("trace {}: job {}: {} token(s): {}", *n.trace_id, n.job->id, results.size(), summary);
  }

  // Handles notification `n` of an element; adds what the ack must write to `job.ack`.
  // check_size: the element is big enough that its payload could exceed a provider's limit.
  asio::awaitable<bool> process(Job& job, job::Notification& n, const std::string& path,
                                const std::string& derived_id, bool check_size) {
    const queue::Lane lane = job.lane;
    queue::AckPlan& ack = job.ack;
    const std::int64_t now = unix_ms();
    if (!n.job) {
      n.job.emplace();
      n.job->id = derived_id;
      n.job->enqueued_ms = now;
    }
    // The provider's payload limit too: a job LPUSHed by a producer never passed the front door.
    auto problem = job::validate_notification(n, config.validation, path);
    // A topic, condition or broadcast (one send each, and smaller limits) is always measured.
    if (!problem && (check_size || n.target != job::Target::tokens)) problem = api::check_payload_size(n, path);
    if (auto* e = problem ? &*problem : nullptr) {
      dead_letter(ack, lane, job::encode_job_string(n), queue::DeadReason::invalid,
                  (e->path.empty() ? std::string() : e->path + ": ") + e->message);
      metrics.jobs.with({"dead_lettered"}).inc();
      co_return true;
    }
    n.app = *job::resolve_app(n, config.validation);  // validation checked it resolves
    const std::string platform(job::to_string(n.platform));

    if (n.send_at && *n.send_at * 1000 > now) {
      ack.retry.emplace_back(*n.send_at * 1000, job::encode_job_string(n));
      metrics.jobs.with({"scheduled"}).inc();
      co_return true;
    }

    if (n.id) {
      bool claimed = false;
      const bool done = co_await until_done(
          job, [&]() -> asio::awaitable<error_code> {
            auto [ec, ok] = co_await store.claim(n.app, *n.id, n.job->id, config.idempotency_ttl);
            claimed = ok;
            co_return ec;
          },
          "idempotency check");
      if (!done) co_return false;
      if (!claimed) {
        logger->info("lane {}: notification id {} of app {} was already sent within queue.idempotency_ttl; skipped",
                     lane.name(), *n.id, n.app);
        metrics.jobs.with({"duplicate"}).inc();
        co_return true;
      }
    }

    // Tried once here, through until_done only after a failure: two coroutine frames less per
    // job when Redis answers.
    // Channels, topics and conditions are never marked inactive: nothing to look up.
    const auto lookup = [&] { return inactive.lookup(n.app, platform, n.tokens); };
    std::vector<bool> inactive_flags(n.tokens.size(), false);
    error_code lookup_ec;
    if (job::has_device_tokens(n)) {
      auto first_lookup = lookup();
      auto [ec, flags] = co_await std::move(first_lookup);
      lookup_ec = ec;
      inactive_flags = std::move(flags);
    }
    if (lookup_ec) {
      const bool looked_up = co_await until_done(
          job, [&]() -> asio::awaitable<error_code> {
            auto [ec, flags] = co_await lookup();
            inactive_flags = std::move(flags);
            co_return ec;
          },
          "inactive-token lookup", lookup_ec);
      if (!looked_up) co_return false;
    }
    std::vector<TokenResult> results;
    std::size_t skipped = 0;
    for (std::size_t i = 0; i < n.tokens.size(); ++i) {
      if (inactive_flags[i]) {
        ++skipped;
      } else {
        results.push_back(TokenResult{n.tokens[i], {}});
      }
    }
    if (skipped > 0) metrics.tokens_skipped_inactive.with({platform}).inc(static_cast<double>(skipped));
    if (results.empty()) {
      metrics.jobs.with({"completed"}).inc();
      co_return true;
    }

    auto provider = providers.find({n.app, n.platform});
    if (provider == providers.end()) {
      dead_letter(ack, lane, job::encode_job_string(n), queue::DeadReason::invalid,
                  "no provider runs for app " + n.app + " and platform " + platform);
      metrics.jobs.with({"dead_lettered"}).inc();
      co_return true;
    }
    if (n.trace_id) {
      logger->info("trace {}: job {} attempt {} sending to {} token(s) of app {} {}", *n.trace_id, n.job->id,
                   n.job->attempt + 1, results.size(), n.app, platform);
    }
    co_await fan_out(provider->second, n, results);
    if (n.trace_id) log_traced_outcomes(n, results);

    std::uniform_real_distribution<double> jitter(0.0, 1.0);
    Plan plan = plan_after_sends(n, results, config.retries, unix_ms(), jitter(rng));
    if (!plan.dead_tokens.empty()) {
      const bool marked = co_await until_done(
          job, [&] { return inactive.mark(n.app, platform, plan.dead_tokens); },
          "marking dead tokens inactive");
      if (!marked) co_return false;
      for (const auto& dead : plan.dead_tokens) {
        metrics.tokens_marked_inactive.with({platform, reason_label(dead.reason)}).inc();
      }
    }
    if (n.trace_id && (!plan.retries.empty() || !plan.dead.empty() || !plan.dead_tokens.empty())) {
      logger->info("trace {}: job {}: {} retry job(s) planned, {} dead-lettered, {} token(s) marked inactive",
                   *n.trace_id, n.job->id, plan.retries.size(), plan.dead.size(), plan.dead_tokens.size());
    }
    for (const auto& retry : plan.retries) {
      ack.retry.emplace_back(retry.due_ms, job::encode_job_string(retry.job));
    }
    for (const auto& dead : plan.dead) {
      dead_letter(ack, lane, job::encode_job_string(dead.job), dead.reason, dead.error);
    }
    metrics.jobs.with({!plan.retries.empty() ? "retried" : !plan.dead.empty() ? "dead_lettered" : "completed"}).inc();
    co_return true;
  }

  // A producer's element with an idempotency `id` but no `job` gets a job id of its own before
  // anything is sent, written back into the processing list: the idempotency claim holds that
  // id, so a redelivery of this element passes its own claim while an identical element the
  // producer pushed twice does not.
  static bool needs_stamp(const std::vector<job::Notification>& notifications) {
    return std::any_of(notifications.begin(), notifications.end(),
                       [](const job::Notification& n) { return n.id && !n.job; });
  }

  // Stamps those job ids (call only when needs_stamp()); replaces `element` with the stamped text.
  asio::awaitable<bool> stamp_job_ids(Job& job, std::string& element,
                                      std::vector<job::Notification>& notifications) {
    const std::int64_t now = unix_ms();
    for (auto& n : notifications) {
      if (n.job) continue;
      n.job.emplace();
      n.job->id = job::random_job_id();
      n.job->enqueued_ms = now;
    }
    std::string stamped = queue::encode_element(notifications);
    const bool replaced = co_await until_done(
        job, [&] { return store.replace(job.lane, element, stamped); },
        "stamping a job id");
    if (!replaced) co_return false;
    element = std::move(stamped);
    co_return true;
  }

  // Decodes the element and handles each of its notifications, adding what the ack must write.
  // False when a Redis step gave up because the job was cancelled: the element then stays in the
  // processing list, and nothing of the ack plan may be written.
  asio::awaitable<bool> handle_element(Job& job, std::string& element) {
    const queue::Lane lane = job.lane;
    auto decoded = job::decode_job_string(element);
    if (auto* e = std::get_if<job::FieldError>(&decoded)) {
      dead_letter(job.ack, lane, element, queue::DeadReason::malformed,
                  (e->path.empty() ? std::string() : e->path + ": ") + e->message);
      metrics.jobs.with({"dead_lettered"}).inc();
      co_return true;
    }
    auto& notifications = std::get<std::vector<job::Notification>>(decoded);
    if (needs_stamp(notifications)) {
      const bool stamped = co_await stamp_job_ids(job, element, notifications);
      if (!stamped) co_return false;
    }
    // Hashing the element is only needed for notifications without `job` (producer
    // elements): pushgw's own jobs carry their id, and hashing every element on the hot path
    // would be wasted.
    const bool needs_id = std::any_of(notifications.begin(), notifications.end(),
                                      [](const job::Notification& n) { return !n.job; });
    const std::string derived = needs_id ? queue::element_job_id(element) : std::string();
    // A payload is built from the element's values: each byte of them at most twice over (a
    // nested `data` value becomes an escaped JSON string for FCM) plus the providers' own keys.
    // Below that bound no payload can reach the smallest limit, and building one to measure it
    // would cost the single-token hot path a payload more per job.
    const bool check_size = element.size() * 2 + 512 > fcm::kFcmPayloadLimit;
    for (std::size_t i = 0; i < notifications.size(); ++i) {
      // Named, not temporaries in the co_await expression (GCC 12 may destroy those twice).
      const bool single = notifications.size() == 1;
      const std::string path = single ? std::string() : job::index_path("notifications", i);
      const std::string id = single ? derived : derived + "#" + std::to_string(i);
      const bool processed = co_await process(job, notifications[i], path, id, check_size);
      if (!processed) co_return false;
    }
    co_return true;
  }

  // An unexpected failure while handling an element (a bug, out of memory) counts against the
  // element, never against the instance: it goes back for another try with its redelivery
  // count raised, after a backoff, and is dead-lettered once that count passes
  // queue.max_redeliveries. The ack plan is replaced: what the failed attempt planned is void.
  queue::AckPlan plan_after_failure(queue::Lane lane, const std::string& element, std::string_view what) {
    queue::AckPlan ack;
    const queue::Redelivery again = queue::mark_redelivered(element, config.max_failures);
    const std::string error = "handling it failed: " + common::quote(what, 200);
    if (again.exhausted || again.redeliveries == 0) {
      // redeliveries == 0: not decodable after all; nothing to count on, so no second try.
      dead_letter(ack, lane, again.element, again.redeliveries == 0 ? queue::DeadReason::malformed
                                                                    : queue::DeadReason::redelivered,
                  error + (again.exhausted ? " (" + std::to_string(again.redeliveries) +
                                                 " times, more than queue.max_redeliveries)"
                                           : std::string()));
      metrics.jobs.with({"dead_lettered"}).inc();
      return ack;
    }
    std::uniform_real_distribution<double> jitter(0.0, 1.0);
    const auto delay = queue::retry_delay(config.retries, static_cast<unsigned>(again.redeliveries), std::nullopt, jitter(rng));
    ack.retry.emplace_back(unix_ms() + delay.count(), again.element);
    metrics.jobs.with({"retried"}).inc();
    return ack;
  }

  asio::awaitable<void> handle(queue::Lane lane, std::string element, asio::cancellation_slot stop) {
    const std::string_view lane_name = lane.name();
    Job job(lane, stop);
    queue::AckPlan& ack = job.ack;
    std::string failure;
    try {
      const bool handled = co_await handle_element(job, element);
      if (!handled) {
        // Cancelled while waiting for Redis: nothing of the ack plan is written, and the
        // element stays in the processing list, from which the consumer puts it back.
        logger->info("lane {}: job {} left for requeueing at shutdown", lane_name, log_job_id(element));
        co_return;
      }
    } catch (const std::exception& e) {
      failure = e.what();
      if (failure.empty()) failure = "unknown error";
    }
    if (!failure.empty()) {
      logger->error("lane {}: handling job {} failed: {}; it goes back for another try", lane_name,
                    log_job_id(element), common::quote(failure, 200));
      ack = plan_after_failure(lane, element, failure);
    }
    // As the lookup: tried once here, until_done only after a failure.
    const auto send_ack = [&] { return store.ack(lane, element, ack); };
    auto first_ack = send_ack();
    const error_code ack_ec = co_await std::move(first_ack);
    bool acked = true;
    if (ack_ec) acked = co_await until_done(job, send_ack, "ack", ack_ec);
    if (!acked) logger->info("lane {}: job not acked before shutdown; it goes back to the queue", lane_name);
  }

  asio::any_io_executor executor;
  queue::JobStore& store;
  feedback::InactiveTokens& inactive;
  metrics::PushgwMetrics& metrics;
  const DispatcherConfig config;
  std::map<std::pair<std::string, job::Platform>, Provider> providers;
  Handoff to_main;  // sends finished on a provider's thread come back through it
  std::mt19937_64 rng;
  std::shared_ptr<spdlog::logger> logger;
};

Dispatcher::Dispatcher(asio::any_io_executor executor, queue::JobStore& store, feedback::InactiveTokens& inactive,
                       metrics::PushgwMetrics& metrics, DispatcherConfig config)
    : impl_(std::make_shared<Impl>(std::move(executor), store, inactive, metrics, std::move(config))) {}

Dispatcher::~Dispatcher() = default;

void Dispatcher::add_provider(provider::Provider& target) {
  Impl::Provider provider;
  provider.target = &target;
  provider.executor = target.executor();
  provider.permits = target.send_permits();
  provider.to_provider = std::make_unique<Handoff>(provider.executor);
  const std::string& app = target.app();
  const job::Platform platform = target.platform();
  const std::string platform_label(job::to_string(platform));
  auto& metrics = impl_->metrics;
  provider.inflight = &metrics.inflight_sends.with({platform_label});
  provider.unanswered = &metrics.sends_unanswered.with({platform_label});
  provider.duration = &metrics.send_duration.with({platform_label});
  for (std::size_t kind = 0; kind < job::kOutcomeKinds; ++kind) {
    provider.outcomes[kind] =
        &metrics.notifications.with({app, platform_label, job::to_string(static_cast<job::OutcomeKind>(kind))});
  }
  impl_->providers[{app, platform}] = std::move(provider);
}

asio::awaitable<void> Dispatcher::handle(queue::Lane lane, std::string element, asio::cancellation_slot stop) {
  return impl_->handle(lane, std::move(element), stop);
}

}  // namespace pushgw::dispatch
