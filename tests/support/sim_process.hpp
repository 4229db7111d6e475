#pragma once
// The real pushgw-sim binary as a child process, with its control endpoints (/sim/stats,
// /sim/config, /sim/reset) reached through curl over TLS. The one way tests start the
// simulator binary (tests/sim runs it in-process through sim_fixture.hpp instead).

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/process.hpp"

namespace pushgw::test {

// A folder with throwaway credentials made by scripts/dev-credentials.sh (sim-cert.pem,
// sim-key.pem, apns-key.p8, fcm-service-account.json), made once per test process.
const std::filesystem::path& credentials_dir();

// What the simulator is started with.
struct SimCredentials {
  std::string cert_file;     // its TLS certificate (the clients' CA file) and key
  std::string key_file;
  std::string apns_key_file;  // the .p8 whose provider tokens it accepts, with its ids
  std::string apns_key_id;
  std::string apns_team_id;
  // A service-account key file whose assertions it accepts; the simulator gets a copy with
  // token_uri at its own /token (service_account_file()). Empty: not passed.
  std::string fcm_service_account_file;
};

// The credentials in credentials_dir(), the ones the daemon tests' config uses.
SimCredentials dev_sim_credentials();

class SimProcess {
 public:
  // Starts pushgw-sim on a free port with `credentials` and `extra_args` (e.g.
  // {"--latency-ms", "5"}), and waits until it listens.
  explicit SimProcess(std::vector<std::string> extra_args = {},
                      SimCredentials credentials = dev_sim_credentials());

  std::uint16_t port() const { return port_; }
  std::string endpoint() const { return "https://127.0.0.1:" + std::to_string(port_); }
  std::string token_uri() const { return endpoint() + "/token"; }
  const std::string& cert_file() const { return credentials_.cert_file; }
  // The FCM service account the simulator verifies, its token_uri pointing at this simulator.
  std::string service_account_file() const { return (dir_.path() / "fcm-service-account.json").string(); }

  nlohmann::json stats();
  // What it recorded (GET /sim/requests): set {"record_requests": true} with configure() first.
  nlohmann::json requests();
  // POST /sim/config with `change`; throws when the simulator refuses it.
  void configure(const nlohmann::json& change);
  void reset();
  std::string log() const { return process_->log(); }
  ChildProcess& process() { return *process_; }

 private:
  nlohmann::json control(const std::string& path, const std::string& body);

  SimCredentials credentials_;
  TempDir dir_;
  std::uint16_t port_ = 0;
  std::unique_ptr<ChildProcess> process_;
};

}  // namespace pushgw::test
