// `pushgw send` against pushgw-sim over real TLS: the way a user checks their credentials.

#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <fstream>

#include "app/daemon.hpp"

namespace pushgw::test {
namespace {

struct Output {
  int exit_code = -1;
  std::string text;
};

Output run(const std::string& command) {
  Output out;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (!pipe) return out;
  std::array<char, 4096> buffer{};
  while (auto n = std::fread(buffer.data(), 1, buffer.size(), pipe)) out.text.append(buffer.data(), n);
  const int status = ::pclose(pipe);
  out.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return out;
}

class SendCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto creds = credentials_dir().string();
    const auto port = free_tcp_port();
    sim_ = std::make_unique<ChildProcess>(
        std::vector<std::string>{(build_dir() / "pushgw-sim").string(), "--listen", "127.0.0.1:" + std::to_string(port),
                                 "--cert", creds + "/sim-cert.pem", "--key", creds + "/sim-key.pem",
                                 "--apns-key", creds + "/apns-key.p8", "--apns-key-id", "ABC123DEFG",
                                 "--apns-team-id", "DEF123GHIJ"},
        dir_.path() / "sim.log");
    ASSERT_TRUE(wait_for_port(port, std::chrono::seconds(20))) << sim_->log();
    config_ = dir_.path() / "pushgw.yaml";
    DaemonOptions options;
    options.redis_url = "redis://127.0.0.1:1/0";  // not used by send
    options.provider_endpoint = "https://127.0.0.1:" + std::to_string(port);
    std::ofstream(config_) << daemon_config_yaml(free_tcp_port(), options);
  }

  Output send(const std::string& args) {
    return run((build_dir() / "pushgw").string() + " send --config " + config_.string() + " " + args);
  }

  TempDir dir_;
  std::unique_ptr<ChildProcess> sim_;
  std::filesystem::path config_;
};

TEST_F(SendCommandTest, DeliversOneNotificationAndPrintsTheOutcome) {
  auto out = send("--app demo --platform ios --token " + std::string(64, 'a') + " --title Hello --message World");
  EXPECT_EQ(out.exit_code, 0) << out.text;
  EXPECT_NE(out.text.find("delivered (HTTP 200)"), std::string::npos) << out.text;
  EXPECT_NE(out.text.find("apns-id"), std::string::npos) << out.text;
  // The token is redacted in the output like in logs.
  EXPECT_EQ(out.text.find(std::string(64, 'a')), std::string::npos) << out.text;
}

TEST_F(SendCommandTest, ReportsADeadTokenAndExitsOne) {
  auto out = send("--token 0410" + std::string(60, 'b') + " --title Hello");
  EXPECT_EQ(out.exit_code, 1) << out.text;
  EXPECT_NE(out.text.find("token_dead (HTTP 410): Unregistered"), std::string::npos) << out.text;
}

TEST_F(SendCommandTest, RejectsABadTokenBeforeSending) {
  auto out = send("--token not-hex --title Hello");
  EXPECT_EQ(out.exit_code, 2) << out.text;
  EXPECT_NE(out.text.find("tokens[0]"), std::string::npos) << out.text;
}

}  // namespace
}  // namespace pushgw::test
