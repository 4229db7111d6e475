#include "pushgw/queue/maintenance.hpp"

#include <boost/asio.hpp>
#include <nlohmann/json.hpp>

#include <unistd.h>

#include "pushgw/common/async.hpp"
#include "pushgw/common/clock.hpp"
#include "pushgw/common/quote.hpp"
#include "pushgw/common/retry.hpp"
#include "pushgw/log/log.hpp"

namespace pushgw::queue {

namespace asio = boost::asio;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

namespace {


// How many due jobs one poll moves per lane before looking again.
constexpr std::size_t kDueBatch = 1000;

}  // namespace

struct Maintenance::Impl : std::enable_shared_from_this<Impl> {
  Impl(asio::any_io_executor executor, JobStore& store, InstanceRegistry& registry, config::QueueConfig config,
       RequeueObserver observer)
      : executor(executor), store(store), registry(registry), config(std::move(config)),
        observer(std::move(observer)), loops(executor), logger(log::get("queue")) {}

  // Sleeps `d`, or less when stop() wakes every loop. False once stopping.
  asio::awaitable<bool> pause(milliseconds d) {
    if (stopping) co_return false;
    asio::steady_timer timer(executor, d);
    timers.push_back(&timer);
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    timers.erase(std::find(timers.begin(), timers.end(), &timer));
    co_return !stopping;
  }

  std::string heartbeat_info() const {
    char host[256] = {};
    ::gethostname(host, sizeof host - 1);
    return nlohmann::json{{"host", host}, {"pid", ::getpid()}, {"at", common::system_unix_ms()}}.dump();
  }

  asio::awaitable<void> heartbeat_loop() {
    bool failing = false;
    do {
      const std::string info = heartbeat_info();
      auto ec = co_await registry.heartbeat(info, config.heartbeat_ttl);
      if (ec && !failing) logger->warn("heartbeat failed: {}; other instances may take this one's jobs if it lasts", ec.message());
      if (!ec && failing) logger->info("heartbeat restored");
      failing = static_cast<bool>(ec);
    } while (co_await pause(config.heartbeat_interval));
  }

  asio::awaitable<void> due_loop() {
    do {
      for (const Lane lane : Lane::all()) {
        while (!stopping) {
          auto [ec, moved] = co_await store.move_due(lane, common::system_unix_ms(), kDueBatch);
          if (ec || moved < kDueBatch) break;
        }
      }
    } while (co_await pause(config.poll_interval));
  }

  asio::awaitable<void> reap_instance(const std::string& instance, bool as_new) {
    bool emptied = true;
    for (const Lane lane : Lane::all()) {
      Requeued r = co_await store.requeue_processing(instance, lane, config.max_redeliveries, as_new,
                                                     common::system_unix_ms());
      if (r.ec) {
        emptied = false;
        logger->warn("lane {}: could not return the jobs of instance {}: {}", lane.name(), instance, r.ec.message());
        continue;
      }
      if (r.requeued + r.dead > 0) {
        logger->warn("lane {}: instance {} {}: {} job(s) back at the head of the queue, {} dead-lettered after too "
                     "many redeliveries",
                     lane.name(), instance, instance == store.instance() ? "left jobs from a previous run" : "stopped heartbeating",
                     r.requeued, r.dead);
        if (observer) observer(lane, r.requeued, r.dead);
      }
    }
    if (emptied && instance != store.instance()) (void)co_await registry.forget(instance);
  }

  // This instance's own jobs stranded by a lost reply (see JobStore::requeue_stranded).
  asio::awaitable<void> return_stranded() {
    for (const Lane lane : Lane::all()) {
      if (stopping) break;
      Requeued r = co_await store.requeue_stranded(lane);
      if (!r.ec && r.requeued > 0) {
        logger->warn("lane {}: {} job(s) sat in this instance's processing list without a worker (a reply lost "
                     "when Redis went away); back at the head of the queue", lane.name(), r.requeued);
      }
    }
  }

  asio::awaitable<void> reaper_loop() {
    // The lease outlives one round, so a slow round is not joined by a second reaper.
    const milliseconds lease = config.reaper_interval * 2 + config.heartbeat_ttl;
    while (co_await pause(config.reaper_interval)) {
      co_await return_stranded();
      auto [lease_ec, holder] = co_await registry.take_reaper_lease(lease);
      if (lease_ec || !holder) continue;
      auto [ec, dead] = co_await registry.dead_instances();
      if (ec) continue;
      for (const auto& instance : dead) {
        if (stopping) break;
        co_await reap_instance(instance, /*as_new=*/false);
      }
    }
  }

  // Runs a loop until the instance stops. An unexpected failure (a bug, out of memory, an
  // element nobody foresaw) is logged and the loop starts again after a pause: one bad element
  // must never end the heartbeat, the poller or the reaper, whose work other instances rely on.
  asio::awaitable<void> supervise(asio::awaitable<void> (Impl::*loop)(), const char* name) {
    for (;;) {
      std::string failure;
      try {
        co_await (this->*loop)();
        co_return;
      } catch (const std::exception& e) {
        failure = e.what();
      }
      logger->error("{} loop failed: {}; starting it again", name, common::quote(failure, 200));
      if (!co_await pause(config.reaper_interval)) co_return;
    }
  }

  void spawn(asio::awaitable<void> (Impl::*loop)(), const char* name) {
    loops.add();
    asio::co_spawn(executor, supervise(loop, name), [self = shared_from_this()](std::exception_ptr) {
      self->loops.done();
    });
  }

  asio::any_io_executor executor;
  JobStore& store;
  InstanceRegistry& registry;
  const config::QueueConfig config;
  RequeueObserver observer;
  common::WaitGroup loops;
  std::vector<asio::steady_timer*> timers;
  bool stopping = false;
  std::shared_ptr<spdlog::logger> logger;
};

Maintenance::Maintenance(asio::any_io_executor executor, JobStore& store, InstanceRegistry& registry,
                         config::QueueConfig config, RequeueObserver observer)
    : impl_(std::make_shared<Impl>(std::move(executor), store, registry, std::move(config), std::move(observer))) {}

Maintenance::~Maintenance() {
  impl_->stopping = true;
  for (auto* timer : impl_->timers) timer->cancel();
}

asio::awaitable<bool> Maintenance::recover(steady_clock::time_point until) {
  auto& impl = *impl_;
  const auto error = co_await common::retry_until_done(
      [&]() -> asio::awaitable<boost::system::error_code> {
        for (const Lane lane : Lane::all()) {
          Requeued r = co_await impl.store.requeue_processing(impl.store.instance(), lane,
                                                              impl.config.max_redeliveries, /*as_new=*/false,
                                                              common::system_unix_ms());
          if (r.ec) co_return r.ec;
          if (r.requeued + r.dead > 0) {
            impl.logger->warn("lane {}: this instance id ({}) held {} job(s) from a previous run: back at the head of "
                              "the queue ({} dead-lettered after too many redeliveries)",
                              lane.name(), impl.store.instance(), r.requeued, r.dead);
            if (impl.observer) impl.observer(lane, r.requeued, r.dead);
          }
        }
        const std::string info = impl.heartbeat_info();  // named: see GCC 12 and co_await temporaries
        co_return co_await impl.registry.heartbeat(info, impl.config.heartbeat_ttl);
      },
      common::Backoff{milliseconds(200), milliseconds(200)}, [until] { return steady_clock::now() >= until; },
      [](const boost::system::error_code&, unsigned) {});
  co_return !error;
}

void Maintenance::start() {
  impl_->spawn(&Impl::heartbeat_loop, "heartbeat");
  impl_->spawn(&Impl::due_loop, "due-job poller");
  impl_->spawn(&Impl::reaper_loop, "reaper");
}

asio::awaitable<void> Maintenance::stop() {
  auto& impl = *impl_;
  impl.stopping = true;
  for (auto* timer : impl.timers) timer->cancel();
  co_await impl.loops.wait();
  if (auto ec = co_await impl.registry.sign_off()) {
    impl.logger->warn("could not delete this instance's heartbeat: {}", ec.message());
  }
}

}  // namespace pushgw::queue
