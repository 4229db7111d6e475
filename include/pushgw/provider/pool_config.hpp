#pragma once
// The connection pool of an HTTP/2 provider (APNs, FCM), made in one place from the provider's
// settings (config::ApnsConfig, config::FcmConfig: endpoint, ca_file, connections,
// max_inflight, request_timeout, ping_interval) and its options (connect_timeout,
// reconnect_min, reconnect_max).

#include <optional>
#include <string>

#include "pushgw/h2/endpoint.hpp"
#include "pushgw/h2/pool.hpp"

namespace pushgw::provider {

// nullopt, with *error naming the setting, when the endpoint is not a usable https URL.
template <class Settings, class Options>
std::optional<h2::PoolConfig> pool_config(const Settings& settings, const Options& options, std::string* error) {
  std::string endpoint_error;
  const auto endpoint = h2::parse_https_endpoint(settings.endpoint, &endpoint_error);
  if (!endpoint) {
    if (error) *error = "endpoint \"" + settings.endpoint + "\": " + endpoint_error;
    return std::nullopt;
  }
  h2::PoolConfig pool;
  pool.connections = settings.connections;
  pool.max_inflight = settings.max_inflight;
  pool.reconnect_min = options.reconnect_min;
  pool.reconnect_max = options.reconnect_max;
  auto& connection = pool.connection;
  connection.host = endpoint->host;
  connection.port = endpoint->port;
  connection.ca_file = settings.ca_file;
  connection.connect_timeout = options.connect_timeout;
  connection.request_timeout = settings.request_timeout;
  connection.ping_interval = settings.ping_interval;
  return pool;
}

}  // namespace pushgw::provider
