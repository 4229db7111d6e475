#include "pushgw/queue/consumer.hpp"

#include <boost/asio.hpp>

#include <algorithm>
#include <list>

#include "pushgw/common/async.hpp"
#include "pushgw/common/retry.hpp"
#include "pushgw/log/log.hpp"

namespace pushgw::queue {

namespace asio = boost::asio;
using boost::system::error_code;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

namespace {

// Free workers shared by the lanes. A lane with no waiting competitor takes as many as it asks
// for; while several lanes wait, each freed worker goes to the lane the scheduler picks.
class WorkerSlots {
 public:
  WorkerSlots(const asio::any_io_executor& executor, std::size_t workers, LaneScheduler scheduler)
      : free_(workers), scheduler_(scheduler),
        wake_{asio::steady_timer(executor), asio::steady_timer(executor), asio::steady_timer(executor)} {}

  // Up to `max` workers for `lane`, at least one; 0 once stopped.
  asio::awaitable<std::size_t> acquire(Lane lane, std::size_t max) {
    if (stopped_) co_return 0;
    if (free_ > 0 && !scheduler_.any_waiting()) co_return take(max);
    const std::size_t at = lane.index();
    scheduler_.set_waiting(lane, true);
    while (granted_[at] == 0 && !stopped_) {
      wake_[at].expires_at(steady_clock::time_point::max());
      co_await wake_[at].async_wait(asio::as_tuple(asio::use_awaitable));
    }
    scheduler_.set_waiting(lane, false);
    std::size_t n = std::exchange(granted_[at], 0);
    if (stopped_) {
      release(n);
      co_return 0;
    }
    if (n < max && !scheduler_.any_waiting()) n += take(max - n);
    co_return n;
  }

  // Up to `max` workers without waiting, and only when no lane is waiting for one.
  std::size_t try_acquire(std::size_t max) { return scheduler_.any_waiting() ? 0 : take(max); }

  void release(std::size_t n) {
    free_ += n;
    while (free_ > 0) {
      auto lane = scheduler_.next();
      if (!lane) break;
      --free_;
      ++granted_[lane->index()];
      scheduler_.set_waiting(*lane, false);  // served; it asks again if it needs more
      wake_[lane->index()].cancel();
    }
  }

  void stop() {
    stopped_ = true;
    for (auto& timer : wake_) timer.cancel();
  }

 private:
  std::size_t take(std::size_t max) {
    const std::size_t n = std::min(free_, max);
    free_ -= n;
    return n;
  }

  std::size_t free_;
  LaneScheduler scheduler_;
  std::array<asio::steady_timer, Lane::kCount> wake_;  // by Lane::index()
  std::array<std::size_t, Lane::kCount> granted_{};
  bool stopped_ = false;
};

}  // namespace

struct Consumer::Impl : std::enable_shared_from_this<Impl> {
  Impl(asio::any_io_executor executor, JobStore& store, ConsumerConfig config, JobHandler handler)
      : executor(executor),
        store(store),
        config(std::move(config)),
        handler(std::move(handler)),
        slots(executor, this->config.queue.workers, LaneScheduler::from_config(this->config.queue)),
        job_bytes(executor, this->config.queue.in_progress_bytes),
        fetchers(executor),
        jobs(executor),
        logger(log::get("queue")) {}

  asio::awaitable<void> sleep(milliseconds d) {
    asio::steady_timer timer(executor, d);
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  }

  // Logs a Redis failure of a fetch loop once per streak, not once per retry.
  void fetch_failed(Lane lane, const boost::system::error_code& ec) {
    bool& was_failing = failing[lane.index()];
    if (!was_failing) logger->warn("lane {}: cannot take jobs from Redis: {}; retrying", lane.name(), ec.message());
    was_failing = true;
  }
  void fetch_ok(Lane lane) {
    if (failing[lane.index()]) logger->info("lane {}: taking jobs from Redis again", lane.name());
    failing[lane.index()] = false;
  }

  asio::awaitable<void> fetch_loop(Lane lane) {
    const std::size_t batch = std::max<std::size_t>(config.queue.batch, 1);
    common::BackoffSequence backoff(common::Backoff{config.redis.reconnect_min, config.redis.reconnect_max});
    while (!stopping) {
      std::size_t wanted = batch;
      if (config.room) {
        // Polled, not signalled: it is zero only while the instance is busy sending.
        while (!stopping && (wanted = std::min(batch, config.room())) == 0) co_await sleep(milliseconds(2));
        if (stopping) break;
      }
      std::size_t workers = co_await slots.acquire(lane, wanted);
      if (workers == 0) break;
      Taken taken = co_await store.take_now(lane, workers);
      if (!taken.ec && taken.elements.empty() && !stopping) {
        // The lane is empty: wait for one job holding one worker, then take what follows it.
        slots.release(workers - 1);
        workers = 1;
        taken = co_await store.take_blocking(*blocking[lane.index()], lane, config.queue.block_timeout);
        if (!taken.ec && !taken.elements.empty() && !stopping) {
          const std::size_t extra = slots.try_acquire(wanted - 1);
          workers += extra;
          Taken more = co_await store.take_now(lane, extra);
          for (auto& element : more.elements) taken.elements.push_back(std::move(element));
        }
      }
      slots.release(workers - std::min(workers, taken.elements.size()));
      if (taken.ec) {
        fetch_failed(lane, taken.ec);
        co_await sleep(backoff.next());
        continue;
      }
      fetch_ok(lane);
      backoff.reset();
      for (auto& element : taken.elements) {
        // The element's size in job_bytes before it starts: with small jobs the workers are the
        // limit, with big ones the bytes. Waiting here, not in the job, keeps the lanes' order:
        // a lane waits behind at most one job of each other lane.
        if (stopping) {
          slots.release(1);  // not started: stop() puts it back at the head of the queue
          continue;
        }
        const std::size_t bytes = co_await job_bytes.acquire(element.size());
        if (stopping) {
          job_bytes.release(bytes);
          slots.release(1);
          continue;
        }
        start_job(lane, std::move(element), bytes);
      }
    }
  }

  void start_job(Lane lane, std::string element, std::size_t bytes) {
    jobs.add();
    const auto stop = running.emplace(running.end());
    asio::co_spawn(executor, run_job(lane, std::move(element), bytes, *stop),
                   [self = shared_from_this(), lane, stop](std::exception_ptr e) {
                     if (e) {
                       try {
                         std::rethrow_exception(e);
                       } catch (const std::exception& ex) {
                         self->logger->error("lane {}: job handler failed: {}; the job stays in this instance's "
                                             "processing list until shutdown or a reaper returns it",
                                             lane.name(), ex.what());
                       }
                     }
                     self->running.erase(stop);
                     self->slots.release(1);
                     self->jobs.done();
                   });
  }

  // One running job's stop signal. `stopped` covers a job whose coroutine has not started yet
  // (co_spawn starts it later), whose slot has no handler to hear the signal.
  struct StopSignal {
    asio::cancellation_signal signal;
    bool stopped = false;
  };

  // Runs the handler; gives back the job's share of job_bytes however it ends.
  asio::awaitable<void> run_job(Lane lane, std::string element, std::size_t bytes, StopSignal& stop) {
    struct Release {
      common::Semaphore& budget;
      std::size_t n;
      ~Release() { budget.release(n); }
    } release{job_bytes, bytes};
    if (stop.stopped) co_return;  // stopped before it started: it is put back untouched
    auto job = handler(lane, std::move(element), stop.signal.slot());  // named: see GCC 12 and co_await temporaries
    co_await std::move(job);
  }

  // Puts this instance's leftover jobs back; retried while Redis is unreachable, until `until`.
  asio::awaitable<bool> requeue_own(steady_clock::time_point until) {
    for (const Lane lane : Lane::all()) {
      Requeued r;
      const error_code ec = co_await common::retry_until_done(
          [&]() -> asio::awaitable<error_code> {
            const auto now_ms = std::chrono::duration_cast<milliseconds>(
                                    std::chrono::system_clock::now().time_since_epoch()).count();
            r = co_await store.requeue_processing(store.instance(), lane, config.queue.max_redeliveries,
                                                  /*as_new=*/true, now_ms);
            co_return r.ec;
          },
          common::Backoff{milliseconds(200), milliseconds(200)}, [until] { return steady_clock::now() >= until; },
          [](const error_code&, unsigned) {});
      if (ec) {
        logger->error("lane {}: could not put this instance's unfinished jobs back ({}); another instance's "
                      "reaper will return them once this heartbeat expires", lane.name(), ec.message());
        co_return false;
      }
      if (r.requeued > 0) logger->info("lane {}: put {} unfinished job(s) back at the head of the queue", lane.name(), r.requeued);
    }
    co_return true;
  }

  asio::any_io_executor executor;
  JobStore& store;
  const ConsumerConfig config;
  JobHandler handler;
  WorkerSlots slots;
  common::Semaphore job_bytes;  // queue.in_progress_bytes; taken in fetch_loop
  std::array<std::unique_ptr<redis::Client>, Lane::kCount> blocking;  // by Lane::index()
  common::WaitGroup fetchers;
  common::WaitGroup jobs;
  std::list<StopSignal> running;  // one per job in `jobs`, erased when it ends
  std::array<bool, Lane::kCount> failing{};
  bool stopping = false;
  std::shared_ptr<spdlog::logger> logger;
};

Consumer::Consumer(asio::any_io_executor executor, JobStore& store, ConsumerConfig config, JobHandler handler)
    : impl_(std::make_shared<Impl>(std::move(executor), store, std::move(config), std::move(handler))) {}

Consumer::~Consumer() {
  for (auto& client : impl_->blocking) {
    if (client) client->stop();
  }
}

void Consumer::start() {
  for (const Lane lane : Lane::all()) {
    redis::ClientConfig blocking_config = impl_->config.redis;
    // The reply to BLMOVE may take the whole block: the timeout must not fire first.
    blocking_config.command_timeout = impl_->config.queue.block_timeout + impl_->config.redis.command_timeout;
    blocking_config.name = impl_->config.redis.name + "-fetch-" + std::string(lane.name());
    auto& blocking = impl_->blocking[lane.index()];
    blocking = std::make_unique<redis::Client>(impl_->executor, blocking_config);
    blocking->start();
    impl_->fetchers.add();
    asio::co_spawn(impl_->executor, impl_->fetch_loop(lane), [self = impl_, lane](std::exception_ptr e) {
      if (e) {
        try {
          std::rethrow_exception(e);
        } catch (const std::exception& ex) {
          self->logger->critical("lane {}: fetch loop failed: {}", lane.name(), ex.what());
        }
      }
      self->fetchers.done();
    });
  }
}

asio::awaitable<bool> Consumer::stop(steady_clock::time_point deadline) {
  auto& impl = *impl_;
  impl.stopping = true;
  impl.slots.stop();
  // A loop blocked in BLMOVE returns within block_timeout; it is not cancelled, so a job that
  // arrives meanwhile lands in the processing list (and is put back below), never in limbo.
  co_await impl.fetchers.wait();
  const bool finished = co_await impl.jobs.wait(deadline);
  if (!finished) {
    impl.logger->warn("{} job(s) still running at the shutdown deadline; they are stopped and go back to the queue",
                      impl.jobs.count());
    // A job waiting for Redis returns at once, without an ack; one with sends in flight once
    // they are answered or time out. (Emitting completes nothing inline, so no job ends, and
    // erases its signal, during this loop.)
    for (auto& stop : impl.running) {
      stop.stopped = true;
      stop.signal.emit(asio::cancellation_type::terminal);
    }
    if (!co_await impl.jobs.wait(steady_clock::now() + milliseconds(2000))) {
      impl.logger->warn("{} job(s) still running after their stop signal; their elements are put back anyway",
                        impl.jobs.count());
    }
  }
  const bool requeued = co_await impl.requeue_own(std::max(deadline, steady_clock::now() + milliseconds(2000)));
  for (auto& client : impl.blocking) {
    if (client) client->stop();
  }
  co_return finished && requeued;
}

}  // namespace pushgw::queue
