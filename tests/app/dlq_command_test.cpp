// `pushgw dlq` against a real redis-server: list, replay and purge dead letters by lane and
// reason, with a limit and a dry run; bad options, unreadable entries and an unreachable Redis
// change nothing and exit non-zero.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>

#include "app/daemon.hpp"
#include "support/redis_server.hpp"

namespace pushgw::test {
namespace {

using nlohmann::json;

// A dead letter as the dispatcher writes it, of a stored job `id` with `attempt` attempts.
std::string entry(const std::string& reason, const std::string& lane, const std::string& id, int attempt,
                  std::int64_t at_ms) {
  const json job = {{"platform", "ios"},
                    {"tokens", {std::string(64, 'a')}},
                    {"title", "t"},
                    {"job", {{"id", id}, {"enqueued_ms", 1}, {"attempt", attempt}, {"redeliveries", 2}}}};
  return json({{"reason", reason}, {"error", "why " + id}, {"lane", lane}, {"instance", "pod-1"}, {"at", at_ms},
               {"job", job}})
      .dump();
}

class DlqCommandTest : public ::testing::Test {
 protected:
  void SetUp() override { write_config(redis_.url()); }
  void write_config(const std::string& redis_url) {
    DaemonOptions options;
    options.redis_url = redis_url;
    std::ofstream(config_) << daemon_config_yaml(free_tcp_port(), options);
  }
  CommandResult dlq(const std::string& args) {
    return run_command((build_dir() / "pushgw").string() + " dlq " + args + " --config " + config_.string() + " 2>&1");
  }
  // Oldest first: LPUSHed in this order.
  void seed() {
    redis_sync_.command({"LPUSH", "pushgw:{default}:dead", entry("rejected", "default", "j1", 3, 1733000000000),
                         entry("retries_exhausted", "default", "j2", 8, 1733000001000),
                         entry("rejected", "default", "j3", 1, 1733000002000)});
    redis_sync_.command({"LPUSH", "pushgw:{bulk}:dead", entry("rejected", "bulk", "j4", 1, 1733000003000)});
  }
  std::vector<std::string> ids(const std::string& key) {
    std::vector<std::string> out;
    for (const auto& text : redis_sync_.lrange(key)) {
      const json j = json::parse(text);
      out.push_back(j.contains("job") && j["job"].contains("job") ? j["job"]["job"]["id"] : j["job"]["id"]);
    }
    return out;
  }

  TempDir dir_;
  std::filesystem::path config_ = dir_.path() / "pushgw.yaml";
  RedisServer redis_;
  SyncRedis redis_sync_{redis_};
};

TEST_F(DlqCommandTest, ListsByLaneAndReasonOldestFirstAsATableOrJsonLines) {
  seed();
  auto all = dlq("list");
  ASSERT_EQ(all.exit_code, 0) << all.output;
  EXPECT_NE(all.output.find("4 dead letter(s)"), std::string::npos) << all.output;
  EXPECT_LT(all.output.find("j1"), all.output.find("j2")) << all.output;
  EXPECT_NE(all.output.find("2024-11-30T20:53:20Z"), std::string::npos) << all.output;  // j1's time

  auto rejected = dlq("list --lane default --reason rejected --json");
  ASSERT_EQ(rejected.exit_code, 0) << rejected.output;
  std::istringstream lines(rejected.output);
  std::vector<std::string> got;
  for (std::string line; std::getline(lines, line);) got.push_back(json::parse(line)["job"]["job"]["id"]);
  EXPECT_EQ(got, (std::vector<std::string>{"j1", "j3"}));

  auto limited = dlq("list --limit 1 --lane default");
  EXPECT_NE(limited.output.find("1 dead letter(s)"), std::string::npos) << limited.output;
}

TEST_F(DlqCommandTest, ReplayMovesTheChosenJobsBackWithAttemptsResetAndADryRunMovesNothing) {
  seed();
  auto dry = dlq("replay --reason rejected --dry-run");
  ASSERT_EQ(dry.exit_code, 0) << dry.output;
  EXPECT_NE(dry.output.find("would replay 3"), std::string::npos) << dry.output;
  EXPECT_EQ(redis_sync_.llen("pushgw:{default}:queue"), 0);

  auto done = dlq("replay --reason rejected --lane default");
  ASSERT_EQ(done.exit_code, 0) << done.output;
  EXPECT_NE(done.output.find("replayed 2"), std::string::npos) << done.output;
  // At the consumer end (the tail), oldest first; attempts and redeliveries reset, ids kept.
  const auto queued = redis_sync_.lrange("pushgw:{default}:queue");
  ASSERT_EQ(queued.size(), 2u);
  EXPECT_EQ(json::parse(queued[1])["job"]["id"], "j1");
  EXPECT_EQ(json::parse(queued[0])["job"]["id"], "j3");
  EXPECT_EQ(json::parse(queued[1])["job"]["attempt"], 0);
  EXPECT_EQ(json::parse(queued[1])["job"]["redeliveries"], 0);
  EXPECT_EQ(ids("pushgw:{default}:dead"), std::vector<std::string>{"j2"});
  EXPECT_EQ(ids("pushgw:{bulk}:dead"), std::vector<std::string>{"j4"});
}

TEST_F(DlqCommandTest, PurgeDeletesOnlyWhatWasChosen) {
  seed();
  auto done = dlq("purge --reason retries_exhausted");
  ASSERT_EQ(done.exit_code, 0) << done.output;
  EXPECT_NE(done.output.find("purged 1"), std::string::npos) << done.output;
  EXPECT_EQ(ids("pushgw:{default}:dead"), (std::vector<std::string>{"j3", "j1"}));
}

TEST_F(DlqCommandTest, BadOptionsUnreadableJobsAndAnUnreachableRedisChangeNothing) {
  seed();
  redis_sync_.command({"LPUSH", "pushgw:{default}:dead",
                       R"({"reason":"malformed","error":"not JSON","lane":"default","instance":"p","at":1,"raw":"{oops"})"});
  auto unreadable = dlq("replay --lane default");
  EXPECT_EQ(unreadable.exit_code, 1) << unreadable.output;
  EXPECT_NE(unreadable.output.find("nothing was moved"), std::string::npos) << unreadable.output;
  EXPECT_NE(unreadable.output.find("\"raw\""), std::string::npos) << unreadable.output;
  EXPECT_EQ(redis_sync_.llen("pushgw:{default}:queue"), 0);
  EXPECT_EQ(redis_sync_.llen("pushgw:{default}:dead"), 4);
  // It can still be listed and purged.
  EXPECT_EQ(dlq("purge --reason malformed").exit_code, 0);
  EXPECT_EQ(redis_sync_.llen("pushgw:{default}:dead"), 3);

  auto lane = dlq("list --lane urgent");
  EXPECT_EQ(lane.exit_code, 2) << lane.output;
  EXPECT_NE(lane.output.find("urgent"), std::string::npos) << lane.output;
  auto reason = dlq("purge --reason broken");
  EXPECT_EQ(reason.exit_code, 2) << reason.output;
  EXPECT_NE(reason.output.find("expected one of malformed"), std::string::npos) << reason.output;
  EXPECT_EQ(dlq("frobnicate").exit_code, 2);

  write_config("redis://127.0.0.1:" + std::to_string(free_tcp_port()) + "/0");
  auto away = dlq("purge");
  EXPECT_EQ(away.exit_code, 1) << away.output;
  EXPECT_NE(away.output.find("cannot reach Redis"), std::string::npos) << away.output;
  EXPECT_EQ(redis_sync_.llen("pushgw:{default}:dead"), 3);
}

}  // namespace
}  // namespace pushgw::test
