#pragma once
// The daemon's wiring: builds the components in dependency order (logging, metrics, Redis,
// front door, HTTP server), runs the event loop, and drains on SIGTERM/SIGINT.

#include "pushgw/config/config.hpp"

namespace pushgw::app {

// Runs until SIGTERM or SIGINT; returns the process exit code (0 after a clean drain).
int run_daemon(const config::Config& config);

// `pushgw check-config FILE`: prints every problem (file:line: key: message) to stderr, or a
// one-line summary of the valid config to stdout. Returns the exit code.
int check_config(const std::string& file);

}  // namespace pushgw::app
