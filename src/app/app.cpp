// Builds pushgw's components in dependency order, runs the event loop on this thread, and
// drains on SIGTERM/SIGINT: stop accepting requests and taking jobs, let sends in progress
// finish until shutdown_timeout, put unfinished jobs back, sign off, close Redis, exit 0.

#include "pushgw/app/app.hpp"

#include <boost/asio.hpp>
#include <spdlog/spdlog.h>

#include <unistd.h>

#include <deque>
#include <iostream>
#include <list>
#include <optional>
#include <thread>
#include <vector>

#include "front_door.hpp"
#include "provider_factory.hpp"
#include "pushgw/dispatch/dispatcher.hpp"
#include "pushgw/feedback/inactive_tokens.hpp"
#include "pushgw/feedback/mark_expiry.hpp"
#include "pushgw/feedback/webhook.hpp"
#include "pushgw/http/server.hpp"
#include "pushgw/log/log.hpp"
#include "pushgw/metrics/metrics.hpp"
#include "pushgw/metrics/pushgw_metrics.hpp"
#include "pushgw/queue/consumer.hpp"
#include "pushgw/queue/instance_registry.hpp"
#include "pushgw/queue/job_store.hpp"
#include "pushgw/queue/maintenance.hpp"
#include "pushgw/redis/client.hpp"
#include "pushgw/redis/tls.hpp"
#include "pushgw/web/hub.hpp"
#include "pushgw/web/service.hpp"

namespace pushgw::app {

namespace asio = boost::asio;

namespace {

// config instance_id, or hostname-pid: it names this instance's processing lists.
std::string instance_name(const config::Config& cfg) {
  if (!cfg.instance_id.empty()) return cfg.instance_id;
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  std::string name;
  for (const char* c = host; *c; ++c) {
    const bool simple = std::isalnum(static_cast<unsigned char>(*c)) || *c == '-' || *c == '_' || *c == '.';
    name.push_back(simple ? *c : '_');
  }
  return (name.empty() ? std::string("pushgw") : name) + "-" + std::to_string(::getpid());
}

// The threads that run the providers' connections (queue.send_threads), beside the main
// thread: an io_context each, and each provider on one of them, round robin. With 0 threads
// the providers share the main thread's executor.
class SendThreads {
 public:
  SendThreads(std::size_t count, asio::any_io_executor main) : main_(std::move(main)) {
    for (std::size_t i = 0; i < count; ++i) contexts_.emplace_back(1);
  }
  ~SendThreads() { stop(); }
  SendThreads(const SendThreads&) = delete;
  SendThreads& operator=(const SendThreads&) = delete;

  // The executor for the next provider.
  asio::any_io_executor next() {
    if (contexts_.empty()) return main_;
    return contexts_[next_++ % contexts_.size()].get_executor();
  }

  void start() {
    for (auto& context : contexts_) {
      guards_.push_back(asio::make_work_guard(context));
      threads_.emplace_back([&context] { context.run(); });
    }
  }

  // After the providers have stopped: whatever is still pending there is dropped.
  void stop() {
    guards_.clear();
    for (auto& context : contexts_) context.stop();
    for (auto& thread : threads_) thread.join();
    threads_.clear();
  }

 private:
  asio::any_io_executor main_;
  std::deque<asio::io_context> contexts_;  // a deque: io_context cannot move
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards_;
  std::vector<std::thread> threads_;
  std::size_t next_ = 0;
};

// The providers of every configured app, started; sends go through the dispatcher. One list:
// nothing here knows a provider but through provider::Provider, except the factory below.
struct Providers {
  std::vector<std::unique_ptr<provider::Provider>> list;

  // Loads credentials and starts connecting. Throws std::runtime_error (or the credential
  // loaders' errors) naming the app and what is wrong: an unreadable key, a malformed endpoint.
  // An intake-only instance (queue.consume: false) sends nothing: it checks the credentials
  // and opens no connection, so the providers' reachability is not part of its readiness.
  void start(SendThreads& threads, const config::Config& cfg) {
    for (const auto& [name, app] : cfg.apps) {
      for (const job::Platform platform : {job::Platform::ios, job::Platform::android, job::Platform::web}) {
        // Built (credentials loaded and checked) even when it will not be started.
        auto made = make_provider(cfg, name, platform, threads.next());
        if (made && cfg.queue.consume) list.push_back(std::move(made));
      }
    }
    for (auto& entry : list) {
      std::string error;
      if (!entry->start(&error)) {
        throw std::runtime_error("apps." + entry->app() + "." + std::string(entry->kind()) + ": " +
                                 error);
      }
    }
  }

  void register_with(dispatch::Dispatcher& dispatcher) {
    for (auto& entry : list) dispatcher.add_provider(*entry);
  }

  std::vector<ProviderCheck> checks() {
    std::vector<ProviderCheck> out;
    for (auto& entry : list) {
      out.push_back({std::string(entry->kind()) + ":" + entry->app(),
                     [&provider = *entry]() {
                       auto health = provider.health();
                       return health.ok ? std::string() : health.error;
                     }});
    }
    return out;
  }

  void refresh_gauges(metrics::PushgwMetrics& metrics) {
    for (auto& entry : list) {
      const auto& p = *entry;
      const std::string platform(job::to_string(p.platform()));
      const h2::PoolStats stats = p.pool_stats();
      metrics.h2_connections.with({p.app(), platform, "connecting"}).set(static_cast<double>(stats.connecting));
      metrics.h2_connections.with({p.app(), platform, "ready"}).set(static_cast<double>(stats.ready));
      metrics.h2_connections.with({p.app(), platform, "draining"}).set(static_cast<double>(stats.draining));
      metrics.provider_healthy.with({p.app(), platform}).set(p.health().ok ? 1 : 0);
    }
  }

  asio::awaitable<void> stop(std::chrono::milliseconds deadline) {
    for (auto& entry : list) co_await entry->stop(deadline);
  }
};

// /readyz's "flow": per provider, its breaker and rate limit and its app's jobs sending.
nlohmann::json flow_json(const dispatch::Dispatcher& dispatcher) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& f : dispatcher.flow_state()) {
    out[f.provider + ":" + f.app] = {{"breaker", f.breaker},
                                     {"rate_limit", f.rate_limit},
                                     {"jobs_sending", f.jobs_sending},
                                     {"max_workers", f.max_workers}};
  }
  return out;
}

http::ServerConfig server_config(const config::Config& cfg) {
  http::ServerConfig out;
  out.host = cfg.listen.host;
  out.port = cfg.listen.port;
  out.max_body_bytes = cfg.limits.max_body_bytes;
  out.max_header_bytes = cfg.limits.max_header_bytes;
  out.max_pending_body_bytes = cfg.limits.max_pending_body_bytes;
  out.max_connections = cfg.limits.max_connections;
  out.probe_connections = cfg.limits.probe_connections;
  out.header_timeout = cfg.limits.header_timeout;
  out.min_receive_rate = cfg.limits.min_receive_rate;
  out.read_timeout = cfg.limits.read_timeout;
  out.idle_timeout = cfg.limits.idle_timeout;
  out.api_keys = cfg.api_keys;
  return out;
}

// Counts and times every request, and writes the access log line.
http::RequestObserver request_observer(metrics::PushgwMetrics& metrics) {
  return [&metrics](const http::CompletedRequest& r) {
    const std::string route(r.route);
    metrics.http_requests.with({route, std::to_string(r.status)}).inc();
    metrics.http_request_duration.with({route}).observe(r.seconds);
    log::access_log(r.route, r.method, r.target, r.status, r.seconds, r.request_body_bytes, r.remote);
  };
}

void log_start(const config::Config& cfg, const config::RedisEndpoint& redis, std::uint16_t port) {
  auto logger = log::get("app");
  logger->info("pushgw listening on {}:{} ({} app(s), redis {}:{} db {})", cfg.listen.host, port,
               cfg.apps.size(), redis.host, redis.port, redis.db);
  if (cfg.api_keys.empty()) {
    logger->warn("api_keys is empty: POST /push and /api/push accept requests without an API key");
  }
}

}  // namespace

int run_daemon(const config::Config& cfg) {
  try {
    log::setup_logging(cfg.logging);
  } catch (const std::exception& e) {
    std::cerr << "pushgw: logging: " << e.what() << "\n";
    return 1;
  }
  auto logger = log::get("app");

  asio::io_context io(1);
  metrics::Registry registry;
  metrics::PushgwMetrics metrics(registry);
  const std::string instance = instance_name(cfg);

  // Declared before the providers: their connections' pending work is dropped after them.
  SendThreads send_threads(cfg.queue.send_threads, io.get_executor());
  Providers providers;
  try {
    providers.start(send_threads, cfg);
  } catch (const std::exception& e) {
    logger->critical("{}", e.what());
    return 1;
  }
  send_threads.start();

  // The front door and the workers use connections of their own, so a burst of sends never
  // queues behind /push requests or the other way round.
  redis::ClientConfig redis_config;
  try {
    redis_config = redis::client_config(cfg, "pushgw-front-door");  // redis.tls's files are read here
  } catch (const std::exception& e) {
    logger->critical("{}", e.what());
    return 1;
  }
  redis::Client redis(io.get_executor(), redis_config);
  // Once at start-up, where this instance looks for Redis.
  if (!cfg.redis.cluster.nodes.empty()) {
    std::string seeds;
    for (const auto& node : cfg.redis.cluster.nodes) {
      seeds += (seeds.empty() ? "" : ", ") + node.host + ":" + std::to_string(node.port);
    }
    logger->info("redis: Cluster mode, slot map from seeds {}{}", seeds, redis_config.endpoint.tls ? ", over TLS" : "");
  } else if (cfg.redis.sentinel.nodes.empty()) {
    logger->info("redis: one server, {}{}", redis.server(), redis_config.endpoint.tls ? " over TLS" : "");
  } else {
    std::string nodes;
    for (const auto& node : cfg.redis.sentinel.nodes) {
      nodes += (nodes.empty() ? "" : ", ") + node.host + ":" + std::to_string(node.port);
    }
    logger->info("redis: Sentinel mode, master {} as sentinels {} name it{}", cfg.redis.sentinel.master, nodes,
                 redis_config.endpoint.tls ? ", over TLS" : "");
  }
  redis::Client worker_redis(io.get_executor(), redis::client_config(cfg, "pushgw-worker"));
  const queue::Keys keys(cfg.redis.prefix);
  queue::JobStore store(worker_redis, keys, instance);
  queue::InstanceRegistry instances(worker_redis, keys, instance);
  feedback::InactiveTokens inactive(worker_redis, keys.feedback(), cfg.feedback);
  dispatch::Dispatcher dispatcher(io.get_executor(), store, inactive, metrics,
                                  dispatch::DispatcherConfig::from_config(cfg, instance));
  providers.register_with(dispatcher);
  queue::Consumer consumer(io.get_executor(), store,
                           {cfg.queue, redis::client_config(cfg, "pushgw"), [&dispatcher] { return dispatcher.room(); }},
                           [&dispatcher](queue::Lane lane, std::string element, asio::cancellation_slot stop) {
                             return dispatcher.handle(lane, std::move(element), stop);
                           });
  queue::Maintenance maintenance(io.get_executor(), store, instances, cfg.queue,
                                 [&metrics](queue::Lane, std::size_t requeued, std::size_t) {
                                   metrics.jobs.with({"requeued"}).inc(static_cast<double>(requeued));
                                 });

  std::vector<std::pair<std::string, std::string>> inactive_hashes;  // (app, platform) with a provider
  for (const auto& [name, app] : cfg.apps) {
    if (app.apns) inactive_hashes.emplace_back(name, job::to_string(job::Platform::ios));
    if (app.fcm) inactive_hashes.emplace_back(name, job::to_string(job::Platform::android));
  }
  feedback::MarkExpiry mark_expiry(io.get_executor(), inactive, std::move(inactive_hashes), cfg.feedback.inactive_ttl,
                                   metrics);
  std::optional<feedback::WebhookSender> webhook;
  if (!cfg.feedback.webhook.url.empty()) {
    webhook.emplace(io.get_executor(), worker_redis, keys.feedback(), instances, cfg.feedback.webhook, metrics);
  }

  // Live web delivery: one subscriber connection for the instance's channels (part of
  // readiness: without it live clients are refused); sessions read histories through the
  // front door's client.
  std::optional<web::Hub> hub;
  std::optional<web::Service> live;
  std::vector<ProviderCheck> checks = providers.checks();
  if (cfg.web.enabled) {
    hub.emplace(io.get_executor(), redis::client_config(cfg, "pushgw-web-subscriber"), redis, keys);
    live.emplace(io.get_executor(), cfg.web, *hub, metrics);
    checks.push_back({"web", [&hub]() {
                        return hub->connected() ? std::string()
                                                : std::string("the live web subscriber connection to Redis is down");
                      }});
  }
  FrontDoor front_door(cfg, redis, metrics, registry, store, inactive, std::move(checks),
                       [&]() { providers.refresh_gauges(metrics); }, [&dispatcher] { return flow_json(dispatcher); });
  std::vector<http::Route> routes = front_door.routes();
  if (live) {
    for (auto& route : live->routes()) routes.push_back(std::move(route));
  }
  http::Server server(io.get_executor(), server_config(cfg), std::move(routes), request_observer(metrics));
  try {
    server.start();
  } catch (const std::exception& e) {
    logger->critical("{}", e.what());
    return 1;
  }
  redis.start();
  worker_redis.start();
  mark_expiry.start();
  if (webhook) webhook->start();
  if (hub) hub->start();
  log_start(cfg, redis_config.endpoint, server.port());
  logger->info("instance {}: {} worker(s), {} send thread(s), lanes high/default/bulk weighted {}/{}/{}", instance,
               cfg.queue.workers, cfg.queue.send_threads, cfg.queue.weight_high, cfg.queue.weight_default,
               cfg.queue.weight_bulk);

  // Workers start once this instance's leftovers from a previous run are back in the queue.
  bool stopping = false;
  bool workers_started = false;
  if (!cfg.queue.consume) logger->info("queue.consume is false: this instance stores jobs but sends none");
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        if (!cfg.queue.consume) co_return;
        if (!co_await maintenance.recover(std::chrono::steady_clock::time_point::max()) || stopping) co_return;
        maintenance.start();
        consumer.start();
        workers_started = true;
      },
      asio::detached);

  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int signal) {
    if (ec) return;
    stopping = true;
    const auto deadline = std::chrono::steady_clock::now() + cfg.shutdown_timeout;
    logger->info("{} received: draining (deadline {} ms)", signal == SIGTERM ? "SIGTERM" : "SIGINT",
                 cfg.shutdown_timeout.count());
    asio::co_spawn(
        io,
        [&, deadline]() -> asio::awaitable<void> {
          // Live clients first, with a "going away", so they reconnect to another instance.
          if (live) co_await live->shutdown(std::chrono::milliseconds(2000));
          co_await server.shutdown(cfg.shutdown_timeout);
          if (workers_started) {
            co_await consumer.stop(deadline);
            co_await maintenance.stop();
          }
          if (webhook) co_await webhook->stop();
          co_await mark_expiry.stop();
          co_await providers.stop(std::chrono::milliseconds(500));
          if (hub) hub->stop();
          worker_redis.stop();
          redis.stop();
        },
        [&](std::exception_ptr) {
          logger->info("drained; exiting");
          io.stop();
        });
  });

  io.run();
  send_threads.stop();
  spdlog::default_logger()->flush();
  return 0;
}

int check_config(const std::string& file) {
  auto loaded = config::load_config(file);
  if (!loaded.config) {
    for (const auto& error : loaded.errors) std::cerr << config::format_error(file, error) << "\n";
    std::cerr << file << ": " << loaded.errors.size() << " problem(s)\n";
    return 1;
  }
  const auto& cfg = *loaded.config;
  // What the daemon would refuse at start-up beyond the file itself: TLS files it cannot use.
  if (const auto endpoint = config::parse_redis_url(cfg.redis.url, nullptr, config::HostRequired::no); endpoint && endpoint->tls) {
    std::string why;
    if (!redis::make_tls_context(cfg.redis.tls, &why)) {
      std::cerr << file << ": " << why << "\n";
      return 1;
    }
  }
  std::cout << file << ": ok (listen " << cfg.listen.host << ":" << cfg.listen.port << ", "
            << cfg.apps.size() << " app(s), " << cfg.api_keys.size() << " API key(s))\n";
  return 0;
}

}  // namespace pushgw::app
