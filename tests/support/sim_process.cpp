#include "support/sim_process.hpp"

#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace pushgw::test {

namespace fs = std::filesystem;

const fs::path& credentials_dir() {
  static TempDir dir;
  static const fs::path path = [] {
    const std::string command = (source_dir() / "scripts/dev-credentials.sh").string() + " " + dir.path().string();
    if (std::system(command.c_str()) != 0) throw std::runtime_error("failed: " + command);
    return dir.path();
  }();
  return path;
}

SimCredentials dev_sim_credentials() {
  const std::string creds = credentials_dir().string();
  return {.cert_file = creds + "/sim-cert.pem",
          .key_file = creds + "/sim-key.pem",
          .apns_key_file = creds + "/apns-key.p8",
          .apns_key_id = "ABC123DEFG",
          .apns_team_id = "DEF123GHIJ",
          .fcm_service_account_file = creds + "/fcm-service-account.json"};
}

SimProcess::SimProcess(std::vector<std::string> extra_args, SimCredentials credentials)
    : credentials_(std::move(credentials)) {
  port_ = free_tcp_port();
  std::vector<std::string> argv{(build_dir() / "pushgw-sim").string(),
                                "--listen", "127.0.0.1:" + std::to_string(port_),
                                "--cert", credentials_.cert_file, "--key", credentials_.key_file,
                                "--apns-key", credentials_.apns_key_file};
  if (!credentials_.apns_key_id.empty()) argv.insert(argv.end(), {"--apns-key-id", credentials_.apns_key_id});
  if (!credentials_.apns_team_id.empty()) argv.insert(argv.end(), {"--apns-team-id", credentials_.apns_team_id});
  if (!credentials_.fcm_service_account_file.empty()) {
    // The service account with token_uri at this simulator's port.
    std::ifstream in(credentials_.fcm_service_account_file);
    std::stringstream text;
    text << in.rdbuf();
    auto account = nlohmann::json::parse(text.str());
    account["token_uri"] = token_uri();
    std::ofstream(service_account_file()) << account.dump(2);
    argv.insert(argv.end(), {"--fcm-service-account", service_account_file()});
  }
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  process_ = std::make_unique<ChildProcess>(argv, dir_.path() / "sim.log");
  if (!wait_for_port(port_, std::chrono::seconds(20))) {
    throw std::runtime_error("pushgw-sim did not listen on port " + std::to_string(port_) + "; its log:\n" +
                             process_->log());
  }
}

nlohmann::json SimProcess::control(const std::string& path, const std::string& body) {
  std::string command = "curl -sk --max-time 10 ";
  if (!body.empty()) {
    const std::string file = (dir_.path() / "body.json").string();
    std::ofstream(file, std::ios::binary) << body;
    command += "-H 'content-type: application/json' --data-binary @" + file + " ";
  }
  const CommandResult result = run_command(command + endpoint() + path);
  if (result.exit_code != 0) {
    throw std::runtime_error("curl " + path + " failed (exit " + std::to_string(result.exit_code) + "): " + result.output);
  }
  return nlohmann::json::parse(result.output);
}

nlohmann::json SimProcess::stats() { return control("/sim/stats", ""); }

nlohmann::json SimProcess::requests() { return control("/sim/requests", "")["requests"]; }

void SimProcess::configure(const nlohmann::json& change) {
  auto answer = control("/sim/config", change.dump());
  if (answer.contains("error")) throw std::runtime_error("sim refused config: " + answer.dump());
}

void SimProcess::reset() { control("/sim/reset", "{}"); }

}  // namespace pushgw::test
