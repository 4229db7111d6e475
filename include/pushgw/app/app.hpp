#pragma once
// The daemon's wiring: builds the components in dependency order (logging, metrics, Redis,
// front door, HTTP server), runs the event loop, and drains on SIGTERM/SIGINT.

#include <cstdint>
#include <optional>
#include <string>

#include "pushgw/config/config.hpp"

namespace pushgw::app {

// Runs until SIGTERM or SIGINT; returns the process exit code (0 after a clean drain).
int run_daemon(const config::Config& config);

// `pushgw check-config FILE`: prints every problem (file:line: key: message) to stderr, or a
// one-line summary of the valid config to stdout. Returns the exit code.
int check_config(const std::string& file);

// `pushgw send`: what to send, as command-line options.
struct SendOptions {
  std::string app;        // empty = the only app
  std::string platform = "ios";
  std::string token;
  std::string title;
  std::string message;
  std::string sound;
  std::optional<std::int64_t> badge;
  std::string topic;
  std::string push_type;
  std::string data;       // a JSON object, as text
};

// Sends one notification straight to the provider (no Redis) and prints the outcome.
// Returns 0 when delivered, 1 when the provider refused it or could not be reached, 2 for bad
// options.
int send_one(const config::Config& config, const SendOptions& options);

}  // namespace pushgw::app
