// `pushgw channels` against pushgw-sim over real TLS: an app's broadcast channels created,
// listed, shown and deleted with its APNs credentials.

#include <gtest/gtest.h>

#include <fstream>

#include "app/daemon.hpp"

namespace pushgw::test {
namespace {

class ChannelsCommandTest : public ::testing::Test {
 protected:
  void SetUp() override { config_ = write_command_config(dir_, sim_); }

  CommandResult channels(const std::string& args) {
    return run_command((build_dir() / "pushgw").string() + " channels --config " + config_.string() + " " + args +
                       " 2>&1");
  }

  TempDir dir_;
  SimProcess sim_;
  std::filesystem::path config_;
};

TEST_F(ChannelsCommandTest, CreatesListsShowsAndDeletesAChannel) {
  auto created = channels("create --storage-policy 1");
  ASSERT_EQ(created.exit_code, 0) << created.output;
  const std::string id = created.output.substr(0, created.output.find('\n'));
  EXPECT_EQ(id.size() % 4, 0u) << id;

  auto listed = channels("list --app demo");
  EXPECT_EQ(listed.exit_code, 0) << listed.output;
  EXPECT_EQ(listed.output, id + "\n");
  auto shown = channels("show --channel " + id);
  EXPECT_EQ(shown.exit_code, 0) << shown.output;
  EXPECT_NE(shown.output.find("message-storage-policy 1 (the most recent message stored)"), std::string::npos)
      << shown.output;
  auto deleted = channels("delete --channel " + id);
  EXPECT_EQ(deleted.exit_code, 0) << deleted.output;
  EXPECT_EQ(deleted.output, "deleted " + id + "\n");

  auto gone = channels("show --channel " + id);
  EXPECT_EQ(gone.exit_code, 1) << gone.output;
  EXPECT_NE(gone.output.find("APNs answered 400 ChannelNotRegistered"), std::string::npos) << gone.output;
  EXPECT_EQ(channels("list").output, "");
}

TEST_F(ChannelsCommandTest, RefusesBadOptionsBeforeAskingApns) {
  auto out = channels("rename");
  EXPECT_EQ(out.exit_code, 2) << out.output;
  EXPECT_NE(out.output.find("unknown action \"rename\""), std::string::npos) << out.output;
  out = channels("show --channel not-base64!");
  EXPECT_EQ(out.exit_code, 2) << out.output;
  EXPECT_NE(out.output.find("--channel must be an APNs channel id"), std::string::npos) << out.output;
  out = channels("create --storage-policy 2");
  EXPECT_EQ(out.exit_code, 2) << out.output;
  out = channels("list --app nope");
  EXPECT_EQ(out.exit_code, 2) << out.output;
  EXPECT_EQ(sim_.stats().at("received"), 0);
}

}  // namespace
}  // namespace pushgw::test
