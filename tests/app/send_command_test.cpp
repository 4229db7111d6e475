// `pushgw send` against pushgw-sim over real TLS: the way a user checks their credentials.

#include <gtest/gtest.h>

#include <fstream>

#include "app/daemon.hpp"

namespace pushgw::test {
namespace {

class SendCommandTest : public ::testing::Test {
 protected:
  void SetUp() override { config_ = write_command_config(dir_, sim_); }

  CommandResult send(const std::string& args) {
    return run_command((build_dir() / "pushgw").string() + " send --config " + config_.string() + " " + args);
  }

  TempDir dir_;
  SimProcess sim_;
  std::filesystem::path config_;
};

TEST_F(SendCommandTest, DeliversOneNotificationAndPrintsTheOutcome) {
  auto out = send("--app demo --platform ios --token " + std::string(64, 'a') + " --title Hello --message World");
  EXPECT_EQ(out.exit_code, 0) << out.output;
  EXPECT_NE(out.output.find("delivered (HTTP 200)"), std::string::npos) << out.output;
  EXPECT_NE(out.output.find("apns-id"), std::string::npos) << out.output;
  // The token is redacted in the output like in logs.
  EXPECT_EQ(out.output.find(std::string(64, 'a')), std::string::npos) << out.output;
}

TEST_F(SendCommandTest, ReportsADeadTokenAndExitsOne) {
  auto out = send("--token 0410" + std::string(60, 'b') + " --title Hello");
  EXPECT_EQ(out.exit_code, 1) << out.output;
  EXPECT_NE(out.output.find("token_dead (HTTP 410): Unregistered"), std::string::npos) << out.output;
}

TEST_F(SendCommandTest, RejectsABadTokenBeforeSending) {
  auto out = send("--token not-hex --title Hello");
  EXPECT_EQ(out.exit_code, 2) << out.output;
  EXPECT_NE(out.output.find("tokens[0]"), std::string::npos) << out.output;
}

}  // namespace
}  // namespace pushgw::test
