#pragma once
// A pushgw redis::Client's configuration for a test's redis-server. Header-only: the suites
// that include it link pushgw_redis themselves.

#include <chrono>

#include "pushgw/redis/client.hpp"
#include "support/redis_server.hpp"

namespace pushgw::test {

// Reconnects quickly (tests stop and restart servers); the command timeout only turns a hang
// into a failure.
inline redis::ClientConfig client_config(const RedisServer& server) {
  redis::ClientConfig config;
  config.endpoint.host = server.host();
  config.endpoint.port = server.port();
  config.command_timeout = std::chrono::seconds(5);
  config.reconnect_min = std::chrono::milliseconds(20);
  config.reconnect_max = std::chrono::milliseconds(200);
  return config;
}

}  // namespace pushgw::test
