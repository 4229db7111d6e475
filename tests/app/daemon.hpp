#pragma once
// Runs the real `pushgw` binary for end-to-end tests: writes a config file into a temporary
// folder (with throwaway credentials made by scripts/dev-credentials.sh), starts the daemon
// on a free loopback port, and waits until it listens.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "support/process.hpp"
#include "support/sim_process.hpp"

namespace pushgw::test {

struct DaemonOptions {
  std::string redis_url{};
  std::string redis_yaml{};             // more lines under "redis:", e.g. "  tls: {ca_file: ca.pem}\n"
  std::vector<std::string> api_keys{};  // empty = no auth
  std::string limits_yaml{};            // lines under "limits:", e.g. "  max_body_bytes: 4KiB\n"
  std::string extra_yaml{};             // more top-level sections
  std::string demo_apns_yaml{};         // more lines under apps.demo.apns, e.g. "      rate_limit: 500\n"
  std::string apps_yaml{};              // more lines under apps (other apps, apps.demo keys)
  // Intake-only by default: the front-door tests look at the stored jobs, which workers would
  // take away. Pipeline tests set consume and their queue settings.
  bool consume = false;
  std::string queue_yaml{};             // lines under "queue:", e.g. "  workers: 8\n"
  std::string instance_id{};
  std::string provider_endpoint = "https://127.0.0.1:1";  // APNs and FCM endpoint
  std::string fcm_service_account{};    // empty = the one in credentials_dir()
  std::string ca_file{};                // the providers' CA; empty = the simulator's certificate
  // Wait until /readyz answers 200 (Redis connected): right after start the Redis connection
  // may still be opening, and /push then answers 503.
  bool wait_ready = true;
};

// A minimal valid config for tests: one app "demo" with APNs and FCM.
std::string daemon_config_yaml(std::uint16_t port, const DaemonOptions& options);

// A config file for the commands that talk to the providers themselves (send, channels): the
// simulator's endpoint and credentials, a Redis they do not use.
std::filesystem::path write_command_config(const TempDir& dir, const SimProcess& sim);

class Daemon {
 public:
  explicit Daemon(DaemonOptions options);
  std::uint16_t port() const { return port_; }
  ChildProcess& process() { return *process_; }
  const std::filesystem::path& config_file() const { return config_file_; }
  // The daemon's stderr so far (for failure messages).
  std::string log() const;

 private:
  TempDir dir_;
  std::uint16_t port_ = 0;
  std::filesystem::path config_file_;
  std::unique_ptr<ChildProcess> process_;
};

}  // namespace pushgw::test
