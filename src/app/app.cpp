// Builds pushgw's components in dependency order, runs the event loop on this thread, and
// drains on SIGTERM/SIGINT: stop accepting, finish requests in progress, close Redis, exit 0.

#include "pushgw/app/app.hpp"

#include <boost/asio.hpp>
#include <spdlog/spdlog.h>

#include <iostream>

#include "front_door.hpp"
#include "pushgw/http/server.hpp"
#include "pushgw/log/log.hpp"
#include "pushgw/metrics/metrics.hpp"
#include "pushgw/metrics/pushgw_metrics.hpp"
#include "pushgw/redis/client.hpp"

namespace pushgw::app {

namespace asio = boost::asio;

namespace {

redis::ClientConfig redis_client_config(const config::Config& cfg) {
  std::string error;
  auto endpoint = config::parse_redis_url(cfg.redis.url, &error);
  if (!endpoint) throw std::invalid_argument("redis.url: " + error);  // validated at load
  redis::ClientConfig out;
  out.endpoint = *endpoint;
  out.connect_timeout = cfg.redis.connect_timeout;
  out.command_timeout = cfg.redis.command_timeout;
  out.reconnect_min = cfg.redis.reconnect_min;
  out.reconnect_max = cfg.redis.reconnect_max;
  out.name = "pushgw-front-door";
  return out;
}

http::ServerConfig server_config(const config::Config& cfg) {
  http::ServerConfig out;
  out.host = cfg.listen.host;
  out.port = cfg.listen.port;
  out.max_body_bytes = cfg.limits.max_body_bytes;
  out.max_header_bytes = cfg.limits.max_header_bytes;
  out.max_connections = cfg.limits.max_connections;
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

  const redis::ClientConfig redis_config = redis_client_config(cfg);
  redis::Client redis(io.get_executor(), redis_config);
  FrontDoor front_door(cfg, redis, metrics, registry);
  http::Server server(io.get_executor(), server_config(cfg), front_door.routes(),
                      request_observer(metrics));
  try {
    server.start();
  } catch (const std::exception& e) {
    logger->critical("{}", e.what());
    return 1;
  }
  redis.start();
  log_start(cfg, redis_config.endpoint, server.port());

  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int signal) {
    if (ec) return;
    logger->info("{} received: draining (deadline {} ms)", signal == SIGTERM ? "SIGTERM" : "SIGINT",
                 cfg.shutdown_timeout.count());
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
          co_await server.shutdown(cfg.shutdown_timeout);
          redis.stop();
        },
        [&](std::exception_ptr) {
          logger->info("drained; exiting");
          io.stop();
        });
  });

  io.run();
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
  std::cout << file << ": ok (listen " << cfg.listen.host << ":" << cfg.listen.port << ", "
            << cfg.apps.size() << " app(s), " << cfg.api_keys.size() << " API key(s))\n";
  return 0;
}

}  // namespace pushgw::app
