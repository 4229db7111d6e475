#include "pushgw/dispatch/dispatcher.hpp"

#include <boost/asio.hpp>

#include <array>
#include <functional>
#include <mutex>
#include <limits>
#include <optional>
#include <random>
#include <vector>

#include "pushgw/api/push_request.hpp"
#include "pushgw/common/async.hpp"
#include "pushgw/common/handoff.hpp"
#include "pushgw/common/quote.hpp"
#include "pushgw/common/retry.hpp"
#include "pushgw/fcm/message.hpp"
#include "pushgw/dispatch/flow_control.hpp"
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
  out.checkpoint_interval = config.queue.checkpoint_interval;
  for (const auto& [name, app] : config.apps) {
    if (app.apns) out.flow[{name, job::Platform::ios}] = {app.apns->rate_limit, app.apns->breaker};
    if (app.fcm) out.flow[{name, job::Platform::android}] = {app.fcm->rate_limit, app.fcm->breaker};
    // With several apps, none may take every worker unless told so.
    out.app_max_workers[name] = app.max_workers > 0        ? app.max_workers
                                : config.apps.size() > 1 ? std::max<std::size_t>(1, config.queue.workers / 2)
                                                         : 0;
  }
  return out;
}

struct Dispatcher::Impl {
  // An app's jobs sending now, against its max_workers.
  struct AppSending {
    std::size_t max = 0;  // 0: no cap
    std::size_t now = 0;
    metrics::Gauge* gauge = nullptr;
  };

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
    // Flow control: the rate is used on `executor` (by the fan-outs), the breaker on the
    // dispatcher's.
    std::optional<SendRate> rate;
    metrics::Counter* rate_limited = nullptr;
    std::unique_ptr<Breaker> breaker;
    std::array<metrics::Gauge*, 3> breaker_state{};  // closed, open, half_open
    metrics::Counter* breaker_opened = nullptr;
    BreakerState breaker_shown = BreakerState::closed;
    std::size_t breaker_opened_seen = 0;
    AppSending* app_sending = nullptr;  // its app's, in apps_sending
  };


  Impl(asio::any_io_executor executor, queue::JobStore& store, feedback::InactiveTokens& inactive,
       metrics::PushgwMetrics& metrics, DispatcherConfig config)
      : executor(executor), store(store), inactive(inactive), metrics(metrics), config(std::move(config)),
        to_main(this->executor), rng(std::random_device{}()), logger(log::get("dispatch")) {}

  // One element being handled: where it came from, what its ack will write, and its stop
  // signal (the consumer's, emitted at the shutdown deadline).
  struct Job {
    Job(queue::Lane lane, std::string& element, asio::cancellation_slot stop)
        : lane(lane), element(element), cancel(stop) {}
    bool cancelled() const { return cancel.cancelled() != asio::cancellation_type::none; }

    queue::Lane lane;
    // The element's text as it is in the processing list now (a stamp or a checkpoint
    // replaces it), its decoded notifications and the one being handled.
    std::string& element;
    const std::vector<job::Notification>* notifications = nullptr;
    std::size_t current = 0;
    queue::AckPlan ack;  // what the ack writes (since the last checkpoint)
    asio::cancellation_state cancel;
    std::size_t tokens = 0;  // counted in tokens_in_progress while it is handled
  };

  // What a fan-out tells the job's coroutine while its sends go on: the results answered since
  // it last looked (reported at most once per half queue.checkpoint_interval), and its end. Used on
  // the job's executor only.
  struct FanOutProgress {
    std::vector<std::size_t> answered;  // indices into the results
    bool finished = false;
    std::exception_ptr failure;
    std::function<void()> wake;  // the job's coroutine, waiting

    void changed() {
      if (auto resume = std::exchange(wake, nullptr)) resume();
    }
    asio::awaitable<void> wait() {
      if (finished || !answered.empty()) co_return;
      co_await common::await_callback<bool>([this](auto resume) { wake = [resume]() mutable { resume(true); }; });
    }
  };

  // The outcomes of one notification's tokens already written by checkpoints.
  struct Recorded {
    explicit Recorded(std::size_t tokens) : token(tokens, false) {}
    std::vector<bool> token;  // by index into the results
    std::size_t count = 0;
    bool retried = false;       // a checkpoint wrote retries
    bool dead_lettered = false;  // ...or dead letters
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
    using Progress = std::function<void(std::vector<std::size_t>)>;
    FanOut(Impl& impl, Provider& provider, const job::Notification& n, std::vector<TokenResult>& results,
           Finished finished, Progress progress, milliseconds report_every)
        : impl(impl), provider(provider), n(n), results(results), finished(std::move(finished)),
          progress(std::move(progress)), report_every(report_every) {}

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
          start_paced(results[next++], common::Permit());
          continue;
        }
        // The callback (an allocation) is made only when the permit is not free now.
        const bool now = permits->try_acquire() || permits->acquire_or_queue([self = shared_from_this(), permits] {
                           self->start_paced(self->results[self->next++], permits->adopt());
                           self->pump();
                         });
        if (!now) break;
        start_paced(results[next++], permits->adopt());
      }
      pumping = false;
      finish_if_done();
    }

    // Starts the send now, or when the provider's rate limit gives it a slot (holding its
    // permit meanwhile: the limit, not the permits, is then what bounds the sends).
    void start_paced(TokenResult& result, common::Permit permit) {
      const auto wait = provider.rate ? provider.rate->reserve(steady_clock::now()) : steady_clock::duration::zero();
      if (wait <= steady_clock::duration::zero()) {
        start_send(result, std::move(permit));
        return;
      }
      provider.rate_limited->inc();
      ++pending;  // a send on its way: the fan-out does not finish before it
      auto timer = std::make_shared<asio::steady_timer>(provider.executor, wait);
      timer->async_wait([self = shared_from_this(), &result, timer, permit = std::move(permit)](error_code) mutable {
        --self->pending;
        self->start_send(result, std::move(permit));
      });
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
      const auto now = steady_clock::now();
      provider.duration->observe(std::chrono::duration<double>(now - start).count());
      provider.outcomes[static_cast<std::size_t>(result.outcome.kind)]->inc();
      if (result.outcome.unanswered) provider.unanswered->inc();
      if (progress) report(result, now);
      --pending;
      finish_if_done();
    }

    // Collects the answered result; hands the collection over once per report_every (not for
    // the last answer: the end of the fan-out follows it).
    void report(const TokenResult& result, steady_clock::time_point now) {
      unreported.push_back(static_cast<std::size_t>(&result - results.data()));
      const bool last = pending == 1 && next == results.size();
      if (last || now - last_report < report_every) return;
      last_report = now;
      progress(std::exchange(unreported, {}));
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
    // Checkpoints (queue.checkpoint_interval; no progress: off).
    Progress progress;
    milliseconds report_every;
    std::vector<std::size_t> unreported;
    steady_clock::time_point last_report = steady_clock::now();
  };

  // Starts the fan-out from the job's coroutine; its answers and its end arrive in `progress`
  // (answers only with checkpoints on). On the provider's own executor (queue.send_threads: 0)
  // it starts at once; on a send thread both hops go through a Handoff, so that under load one
  // wake-up of each thread carries many notifications.
  void start_fan_out(Provider& provider, const job::Notification& n, std::vector<TokenResult>& results,
                     const std::shared_ptr<FanOutProgress>& progress) {
    const bool here = provider.executor == executor;
    FanOut::Finished finished = [this, here, progress](std::exception_ptr failure) {
      auto record = [progress, failure] {
        progress->finished = true;
        progress->failure = failure;
        progress->changed();
      };
      if (here) {
        record();
      } else {
        to_main.run(record);
      }
    };
    FanOut::Progress answered;
    // One token: its answer is the end, there is nothing to checkpoint.
    if (config.checkpoint_interval.count() > 0 && results.size() > 1) {
      answered = [this, progress](std::vector<std::size_t> indices) {
        to_main.run([progress, indices = std::move(indices)] {
          progress->answered.insert(progress->answered.end(), indices.begin(), indices.end());
          progress->changed();
        });
      };
    }
    // Reported every half interval: the other half is for the checkpoint's write, so that what
    // has no recorded outcome is at most about one interval old.
    auto fan_out = std::make_shared<FanOut>(*this, provider, n, results, std::move(finished), std::move(answered),
                                            config.checkpoint_interval / 2);
    if (here) {
      fan_out->start();
    } else {
      provider.to_provider->run([fan_out] { fan_out->start(); });
    }
  }

  // Sends `n` to every token of `results` and waits for every outcome; meanwhile writes a
  // checkpoint for the answers each progress report brings. A checkpoint that cannot be
  // written (the job cancelled, an unexpected failure) leaves those outcomes to the ack.
  asio::awaitable<void> send_all(Job& job, Provider& provider, job::Notification& n,
                                 std::vector<TokenResult>& results, Recorded& recorded) {
    auto progress = std::make_shared<FanOutProgress>();
    start_fan_out(provider, n, results, progress);
    bool checkpoints = true;
    // The fan-out holds references to n and results: nothing may leave this loop before its end.
    while (true) {
      co_await progress->wait();
      if (progress->finished) break;
      const auto answered = std::exchange(progress->answered, {});
      if (!checkpoints) continue;
      try {
        checkpoints = co_await checkpoint(job, n, results, answered, recorded);
      } catch (const std::exception& e) {
        logger->error("lane {}: job {}: writing a checkpoint failed: {}; its outcomes go with the ack",
                      job.lane.name(), n.job->id, common::quote(e.what(), 200));
        checkpoints = false;
      }
    }
    if (progress->failure) std::rethrow_exception(progress->failure);
  }

  // Records the outcomes of `answered` (indices into results) in the job's processing element,
  // in one script: the element becomes the tokens still without an outcome (and the element's
  // notifications after this one), and the retries and dead letters those outcomes plan are
  // written with it (and the ack's parts from the notifications before). False when the job
  // was cancelled first.
  asio::awaitable<bool> checkpoint(Job& job, job::Notification& n, const std::vector<TokenResult>& results,
                                   const std::vector<std::size_t>& answered, Recorded& recorded) {
    std::vector<bool> now_recorded = recorded.token;
    std::vector<TokenResult> settled;
    settled.reserve(answered.size());
    for (const std::size_t i : answered) {
      settled.push_back(results[i]);
      now_recorded[i] = true;
    }
    std::vector<job::Notification> remaining(1, n);
    remaining[0].tokens.clear();
    for (std::size_t i = 0; i < results.size(); ++i) {
      if (!now_recorded[i]) remaining[0].tokens.push_back(results[i].token);
    }
    if (remaining[0].tokens.empty()) remaining.clear();
    const auto& notifications = *job.notifications;
    remaining.insert(remaining.end(), notifications.begin() + static_cast<std::ptrdiff_t>(job.current) + 1,
                     notifications.end());
    if (remaining.empty()) co_return true;  // every token answered: the ack follows at once

    std::uniform_real_distribution<double> jitter(0.0, 1.0);
    const Plan plan = plan_after_sends(n, settled, config.retries, unix_ms(), jitter(rng));
    const bool marked = co_await mark_dead_tokens(job, n, plan);
    if (!marked) co_return false;
    queue::AckPlan written = job.ack;
    add_to_ack(written, job.lane, plan);
    const std::string replacement = queue::encode_element(remaining);
    const bool replaced = co_await until_done(
        job, [&] { return store.replace(job.lane, job.element, replacement, written); }, "writing a checkpoint");
    if (!replaced) co_return false;
    job.element = replacement;
    job.ack = {};
    recorded.token = std::move(now_recorded);
    recorded.count += answered.size();
    tokens_in_progress -= answered.size();  // room for the next jobs
    job.tokens -= answered.size();
    recorded.retried = recorded.retried || !plan.retries.empty();
    recorded.dead_lettered = recorded.dead_lettered || !plan.dead.empty();
    if (n.trace_id) {
      logger->info("trace {}: job {}: checkpoint: {} outcome(s) recorded, {} token(s) still in progress", *n.trace_id,
                   n.job->id, answered.size(), results.size() - recorded.count);
    }
    co_return true;
  }

  // Marks the plan's dead tokens inactive (before the ack or checkpoint that forgets them).
  asio::awaitable<bool> mark_dead_tokens(Job& job, const job::Notification& n, const Plan& plan) {
    if (plan.dead_tokens.empty()) co_return true;
    const std::string platform(job::to_string(n.platform));
    const bool marked = co_await until_done(
        job, [&] { return inactive.mark(n.app, platform, plan.dead_tokens); }, "marking dead tokens inactive");
    if (!marked) co_return false;
    for (const auto& dead : plan.dead_tokens) {
      metrics.tokens_marked_inactive.with({platform, reason_label(dead.reason)}).inc();
    }
    co_return true;
  }

  // Holds a notification back (flow control): its tokens go to the retry ZSET due at `due` (a
  // second's spread, so parked jobs do not all come back at once), no attempt counted.
  void park(Job& job, const job::Notification& n, const std::vector<TokenResult>& results, FlowClock::time_point due,
            const std::string& why) {
    std::vector<std::string> tokens;
    tokens.reserve(results.size());
    for (const auto& r : results) tokens.push_back(r.token);
    std::uniform_int_distribution<std::int64_t> spread(0, 999);
    const auto wait = std::max<std::int64_t>(0, std::chrono::duration_cast<milliseconds>(due - FlowClock::now()).count());
    add_to_ack(job.ack, job.lane, plan_parked(n, std::move(tokens), unix_ms() + wait + spread(rng), why));
    metrics.jobs.with({"parked"}).inc();
    if (n.trace_id) logger->info("trace {}: job {}: parked for {} ms: {}", *n.trace_id, n.job->id, wait, why);
  }

  // The breaker's state in its gauges, and its changes in the log.
  void show_breaker(Provider& provider) {
    if (!provider.breaker) return;
    const BreakerState state = provider.breaker->state();
    if (state == provider.breaker_shown) return;
    const std::string platform(job::to_string(provider.target->platform()));
    for (std::size_t i = 0; i < provider.breaker_state.size(); ++i) {
      provider.breaker_state[i]->set(static_cast<std::size_t>(state) == i ? 1 : 0);
    }
    const std::size_t opened = provider.breaker->opened();
    if (opened > provider.breaker_opened_seen) {
      provider.breaker_opened->inc(static_cast<double>(opened - provider.breaker_opened_seen));
      provider.breaker_opened_seen = opened;
    }
    if (state == BreakerState::open) {
      logger->warn("app {} {}: circuit breaker open: the provider is failing; its jobs wait in the retry ZSET",
                   provider.target->app(), platform);
    } else {
      logger->info("app {} {}: circuit breaker {}", provider.target->app(), platform, to_string(state));
    }
    provider.breaker_shown = state;
  }

  // The plan's retry jobs and dead letters, into what an ack or a checkpoint writes.
  void add_to_ack(queue::AckPlan& ack, queue::Lane lane, const Plan& plan) {
    for (const auto& retry : plan.retries) {
      ack.retry.emplace_back(retry.due_ms, job::encode_job_string(retry.job));
    }
    for (const auto& dead : plan.dead) {
      dead_letter(ack, lane, job::encode_job_string(dead.job), dead.reason, dead.error);
    }
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
    // Flow control: a breaker open, or the app's max_workers reached, parks the notification.
    Provider& target = provider->second;
    AppSending& app_sending = *target.app_sending;
    const auto flow_now = FlowClock::now();
    if (target.breaker && !target.breaker->allow(flow_now)) {
      park(job, n, results, target.breaker->retry_at(flow_now), "the " + platform + " circuit breaker is open");
      co_return true;
    }
    const bool probe = target.breaker && target.breaker->state() == BreakerState::half_open;
    if (app_sending.max > 0 && app_sending.now >= app_sending.max) {
      if (probe) target.breaker->record(flow_now, 0, 0, false, true);  // the probe goes to another job
      park(job, n, results, flow_now + std::chrono::seconds(1), "apps." + n.app + ".max_workers are busy");
      co_return true;
    }
    show_breaker(target);
    if (n.trace_id) {
      logger->info("trace {}: job {} attempt {} sending to {} token(s) of app {} {}{}", *n.trace_id, n.job->id,
                   n.job->attempt + 1, results.size(), n.app, platform, probe ? " (the breaker's probe)" : "");
    }
    Recorded recorded(results.size());
    ++app_sending.now;
    app_sending.gauge->inc();
    try {
      co_await send_all(job, target, n, results, recorded);
    } catch (...) {
      --app_sending.now;
      app_sending.gauge->dec();
      if (probe) target.breaker->record(FlowClock::now(), 0, 0, false, true);
      throw;
    }
    --app_sending.now;
    app_sending.gauge->dec();
    if (target.breaker) {
      std::size_t failures = 0;
      bool credentials = false;
      for (const auto& r : results) {
        failures += is_provider_failure(r.outcome.kind) ? 1 : 0;
        credentials = credentials || r.outcome.kind == job::OutcomeKind::credentials_error;
      }
      target.breaker->record(FlowClock::now(), results.size(), failures, credentials, probe);
      show_breaker(target);
    }
    if (n.trace_id) log_traced_outcomes(n, results);

    // The outcomes no checkpoint wrote (all of them for a short fan-out).
    std::vector<TokenResult> unrecorded;
    if (recorded.count > 0) {
      for (std::size_t i = 0; i < results.size(); ++i) {
        if (!recorded.token[i]) unrecorded.push_back(std::move(results[i]));
      }
    }
    std::uniform_real_distribution<double> jitter(0.0, 1.0);
    Plan plan = plan_after_sends(n, recorded.count > 0 ? unrecorded : results, config.retries, unix_ms(), jitter(rng));
    if (probe && target.breaker->state() == BreakerState::open) {
      // A failed probe costs its job no attempt: the provider is down, not the notification
      // (else a small backlog, probing every open_for, would run out of attempts).
      for (auto& retry : plan.retries) {
        retry.job.job->attempt = n.job->attempt;
        retry.due_ms = std::max(retry.due_ms, unix_ms() + std::chrono::duration_cast<milliseconds>(
                                                              target.breaker->retry_at(FlowClock::now()) - FlowClock::now())
                                                              .count());
      }
    }
    const bool marked = co_await mark_dead_tokens(job, n, plan);
    if (!marked) co_return false;
    if (n.trace_id && (!plan.retries.empty() || !plan.dead.empty() || !plan.dead_tokens.empty())) {
      logger->info("trace {}: job {}: {} retry job(s) planned, {} dead-lettered, {} token(s) marked inactive",
                   *n.trace_id, n.job->id, plan.retries.size(), plan.dead.size(), plan.dead_tokens.size());
    }
    add_to_ack(ack, lane, plan);
    const bool retried = recorded.retried || !plan.retries.empty();
    const bool dead_lettered = recorded.dead_lettered || !plan.dead.empty();
    metrics.jobs.with({retried ? "retried" : dead_lettered ? "dead_lettered" : "completed"}).inc();
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

  // Stamps those job ids (call only when needs_stamp()); replaces the job's element with the
  // stamped text.
  asio::awaitable<bool> stamp_job_ids(Job& job, std::vector<job::Notification>& notifications) {
    const std::int64_t now = unix_ms();
    for (auto& n : notifications) {
      if (n.job) continue;
      n.job.emplace();
      n.job->id = job::random_job_id();
      n.job->enqueued_ms = now;
    }
    std::string stamped = queue::encode_element(notifications);
    const queue::AckPlan nothing_else;
    const bool replaced = co_await until_done(
        job, [&] { return store.replace(job.lane, job.element, stamped, nothing_else); }, "stamping a job id");
    if (!replaced) co_return false;
    job.element = std::move(stamped);
    co_return true;
  }

  // Decodes the element and handles each of its notifications, adding what the ack must write.
  // False when a Redis step gave up because the job was cancelled: the element then stays in the
  // processing list, and nothing of the ack plan may be written.
  asio::awaitable<bool> handle_element(Job& job) {
    const queue::Lane lane = job.lane;
    const std::string& element = job.element;
    auto decoded = job::decode_job_string(element);
    if (auto* e = std::get_if<job::FieldError>(&decoded)) {
      dead_letter(job.ack, lane, element, queue::DeadReason::malformed,
                  (e->path.empty() ? std::string() : e->path + ": ") + e->message);
      metrics.jobs.with({"dead_lettered"}).inc();
      co_return true;
    }
    auto& notifications = std::get<std::vector<job::Notification>>(decoded);
    for (const auto& n : notifications) job.tokens += n.tokens.size();
    tokens_in_progress += job.tokens;
    tokens_per_job = 0.9 * tokens_per_job + 0.1 * static_cast<double>(job.tokens);
    if (needs_stamp(notifications)) {
      const bool stamped = co_await stamp_job_ids(job, notifications);
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
    job.notifications = &notifications;
    for (std::size_t i = 0; i < notifications.size(); ++i) {
      job.current = i;
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
    Job job(lane, element, stop);
    struct Done {  // the job's tokens leave tokens_in_progress however it ends
      Impl& impl;
      Job& job;
      ~Done() { impl.tokens_in_progress -= job.tokens; }
    } done{*this, job};
    queue::AckPlan& ack = job.ack;
    std::string failure;
    try {
      const bool handled = co_await handle_element(job);
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
  std::map<std::string, AppSending> apps_sending;  // by app
  // Prefetch (room()): tokens of the jobs being handled, the providers' permits together, and
  // the tokens per job lately (a moving average).
  std::size_t tokens_in_progress = 0;
  std::size_t send_capacity = 0;
  double tokens_per_job = 1;
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
  if (provider.permits) impl_->send_capacity += provider.permits->capacity();
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
  if (const auto flow = impl_->config.flow.find({app, platform}); flow != impl_->config.flow.end()) {
    if (flow->second.rate_limit > 0) provider.rate.emplace(static_cast<double>(flow->second.rate_limit));
    if (flow->second.breaker.error_ratio > 0) provider.breaker = std::make_unique<Breaker>(flow->second.breaker);
  }
  provider.rate_limited = &metrics.sends_rate_limited.with({app, platform_label});
  if (provider.breaker) {
    for (const BreakerState state : {BreakerState::closed, BreakerState::open, BreakerState::half_open}) {
      auto& gauge = metrics.breaker_state.with({app, platform_label, std::string(to_string(state))});
      gauge.set(state == BreakerState::closed ? 1 : 0);
      provider.breaker_state[static_cast<std::size_t>(state)] = &gauge;
    }
    provider.breaker_opened = &metrics.breaker_opened.with({app, platform_label});
  }
  Impl::AppSending& sending = impl_->apps_sending[app];
  if (const auto cap = impl_->config.app_max_workers.find(app); cap != impl_->config.app_max_workers.end()) {
    sending.max = cap->second;
  }
  sending.gauge = &metrics.app_jobs_sending.with({app});
  provider.app_sending = &sending;
  impl_->providers[{app, platform}] = std::move(provider);
}

std::size_t Dispatcher::room() const {
  const Impl& impl = *impl_;
  if (impl.send_capacity == 0) return std::numeric_limits<std::size_t>::max();
  const std::size_t limit = 2 * impl.send_capacity;
  if (impl.tokens_in_progress >= limit) return 0;
  const auto per_job = std::max<std::size_t>(1, static_cast<std::size_t>(impl.tokens_per_job + 0.5));
  return std::max<std::size_t>(1, (limit - impl.tokens_in_progress) / per_job);
}

std::vector<Dispatcher::FlowState> Dispatcher::flow_state() const {
  std::vector<FlowState> out;
  for (const auto& [key, provider] : impl_->providers) {
    const auto sending = impl_->apps_sending.find(key.first);
    out.push_back({key.first, std::string(provider.target->kind()),
                   provider.breaker ? std::string(to_string(provider.breaker->state())) : std::string("off"),
                   provider.rate ? static_cast<std::size_t>(provider.rate->per_second()) : 0,
                   sending == impl_->apps_sending.end() ? 0 : sending->second.now,
                   sending == impl_->apps_sending.end() ? 0 : sending->second.max});
  }
  return out;
}

asio::awaitable<void> Dispatcher::handle(queue::Lane lane, std::string element, asio::cancellation_slot stop) {
  return impl_->handle(lane, std::move(element), stop);
}

}  // namespace pushgw::dispatch
