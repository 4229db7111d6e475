#include "app/daemon.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <stdexcept>

#include "support/eventually.hpp"
#include "support/http_client.hpp"

namespace pushgw::test {

std::string daemon_config_yaml(std::uint16_t port, const DaemonOptions& options) {
  const std::string creds = credentials_dir().string();
  const std::string ca_file = options.ca_file.empty() ? creds + "/sim-cert.pem" : options.ca_file;
  std::ostringstream yaml;
  yaml << "listen: 127.0.0.1:" << port << "\n";
  yaml << "api_keys: [";
  for (std::size_t i = 0; i < options.api_keys.size(); ++i) yaml << (i ? ", " : "") << '"' << options.api_keys[i] << '"';
  yaml << "]\n";
  yaml << "redis:\n  url: " << options.redis_url << "\n  command_timeout: 2s\n  reconnect_max: 200ms\n"
       << options.redis_yaml;
  yaml << "logging:\n  level: info\n";
  if (!options.limits_yaml.empty()) yaml << "limits:\n" << options.limits_yaml;
  yaml << "queue:\n  consume: " << (options.consume ? "true" : "false") << "\n" << options.queue_yaml;
  if (!options.instance_id.empty()) yaml << "instance_id: " << options.instance_id << "\n";
  yaml << "shutdown_timeout: 5s\n";
  yaml << "apps:\n"
          "  demo:\n"
          "    apns:\n"
          "      endpoint: " << options.provider_endpoint << "\n"
          "      ca_file: " << ca_file << "\n"
          "      topic: com.example.demo\n"
          "      auth: {type: token, key_file: " << creds << "/apns-key.p8, key_id: ABC123DEFG, team_id: DEF123GHIJ}\n"
       << options.demo_apns_yaml
       << "    fcm:\n"
          "      endpoint: " << options.provider_endpoint << "\n"
          "      ca_file: " << ca_file << "\n"
          "      service_account_file: "
       << (options.fcm_service_account.empty() ? creds + "/fcm-service-account.json" : options.fcm_service_account)
       << "\n";
  yaml << options.apps_yaml;
  yaml << options.extra_yaml;
  return yaml.str();
}

std::filesystem::path write_command_config(const TempDir& dir, const SimProcess& sim) {
  const auto file = dir.path() / "pushgw.yaml";
  DaemonOptions options;
  options.redis_url = "redis://127.0.0.1:1/0";
  options.provider_endpoint = sim.endpoint();
  options.fcm_service_account = sim.service_account_file();
  std::ofstream(file) << daemon_config_yaml(free_tcp_port(), options);
  return file;
}

Daemon::Daemon(DaemonOptions options) {
  port_ = free_tcp_port();
  config_file_ = dir_.path() / "pushgw.yaml";
  std::ofstream(config_file_) << daemon_config_yaml(port_, options);
  const std::string binary = (build_dir() / "pushgw").string();
  process_ = std::make_unique<ChildProcess>(
      std::vector<std::string>{binary, "--config", config_file_.string()}, dir_.path() / "pushgw.log");
  if (!wait_for_port(port_, std::chrono::seconds(20))) {
    throw std::runtime_error("pushgw did not listen on port " + std::to_string(port_) + "; its log:\n" + log());
  }
  if (options.wait_ready && !eventually([&] { return get(port_, "/readyz").status == 200; }, std::chrono::seconds(20))) {
    throw std::runtime_error("pushgw did not become ready; its log:\n" + log());
  }
}

std::string Daemon::log() const {
  std::ifstream in(dir_.path() / "pushgw.log");
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace pushgw::test
