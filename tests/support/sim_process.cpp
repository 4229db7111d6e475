#include "app/sim_process.hpp"

#include <array>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "app/daemon.hpp"

namespace pushgw::test {

SimProcess::SimProcess(std::vector<std::string> extra_args) {
  const std::string creds = credentials_dir().string();
  port_ = free_tcp_port();
  // The test service account with token_uri at this simulator's port.
  std::ifstream in(credentials_dir() / "fcm-service-account.json");
  std::stringstream text;
  text << in.rdbuf();
  auto account = nlohmann::json::parse(text.str());
  account["token_uri"] = endpoint() + "/token";
  std::ofstream(service_account_file()) << account.dump(2);
  std::vector<std::string> argv{(build_dir() / "pushgw-sim").string(),
                                "--listen", "127.0.0.1:" + std::to_string(port_),
                                "--cert", creds + "/sim-cert.pem", "--key", creds + "/sim-key.pem",
                                "--apns-key", creds + "/apns-key.p8", "--apns-key-id", "ABC123DEFG",
                                "--apns-team-id", "DEF123GHIJ",
                                "--fcm-service-account", service_account_file()};
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  process_ = std::make_unique<ChildProcess>(argv, dir_.path() / "sim.log");
  if (!wait_for_port(port_, std::chrono::seconds(20))) {
    throw std::runtime_error("pushgw-sim did not listen; its log:\n" + process_->log());
  }
}

nlohmann::json SimProcess::control(const std::string& path, const std::string& body) {
  std::string command = "curl -sk --max-time 10 ";
  if (!body.empty()) {
    const std::string file = (dir_.path() / "body.json").string();
    if (FILE* f = std::fopen(file.c_str(), "w")) {
      std::fwrite(body.data(), 1, body.size(), f);
      std::fclose(f);
    }
    command += "-H 'content-type: application/json' --data-binary @" + file + " ";
  }
  command += endpoint() + path;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (!pipe) throw std::runtime_error("cannot run curl");
  std::string out;
  std::array<char, 4096> buffer{};
  while (auto n = std::fread(buffer.data(), 1, buffer.size(), pipe)) out.append(buffer.data(), n);
  const int status = ::pclose(pipe);
  if (status != 0) throw std::runtime_error("curl " + path + " failed (status " + std::to_string(status) + "): " + out);
  return nlohmann::json::parse(out);
}

nlohmann::json SimProcess::stats() { return control("/sim/stats", ""); }

void SimProcess::configure(const nlohmann::json& change) {
  auto answer = control("/sim/config", change.dump());
  if (answer.contains("error")) throw std::runtime_error("sim refused config: " + answer.dump());
}

void SimProcess::reset() { control("/sim/reset", "{}"); }

}  // namespace pushgw::test
