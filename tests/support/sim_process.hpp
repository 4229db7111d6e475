#pragma once
// The real pushgw-sim binary as a child process, with its control endpoints (/sim/stats,
// /sim/config, /sim/reset) reached through curl over TLS, for end-to-end tests.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/process.hpp"

namespace pushgw::test {

class SimProcess {
 public:
  // Starts pushgw-sim on a free port with the test credentials and `extra_args` (e.g.
  // {"--latency-ms", "5"}), and waits until it listens.
  explicit SimProcess(std::vector<std::string> extra_args = {});

  std::uint16_t port() const { return port_; }
  std::string endpoint() const { return "https://127.0.0.1:" + std::to_string(port_); }
  // The FCM service account the simulator verifies, its token_uri pointing at this simulator.
  std::string service_account_file() const { return (dir_.path() / "fcm-service-account.json").string(); }

  nlohmann::json stats();
  // POST /sim/config with `change`; throws when the simulator refuses it.
  void configure(const nlohmann::json& change);
  void reset();
  std::string log() const { return process_->log(); }

 private:
  nlohmann::json control(const std::string& path, const std::string& body);

  TempDir dir_;
  std::uint16_t port_ = 0;
  std::unique_ptr<ChildProcess> process_;
};

}  // namespace pushgw::test
