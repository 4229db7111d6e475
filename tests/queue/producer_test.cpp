// The producer: which key each new job goes to (no I/O), and storing them against a real
// redis-server, all or none.
#include "pushgw/queue/producer.hpp"

#include <gtest/gtest.h>

#include <csignal>

#include <boost/asio.hpp>

#include "pushgw/job/codec.hpp"
#include "support/asio_wait.hpp"
#include "support/redis_client.hpp"
#include "support/redis_server.hpp"

namespace pushgw::queue {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

job::Notification notification(char token, std::optional<std::string> lane, std::optional<std::int64_t> send_at) {
  job::Notification n;
  n.tokens = {std::string(64, token)};
  n.lane = std::move(lane);
  n.send_at = send_at;
  n.job = job::JobMeta{std::string("job-") + token, 1, 0, 0};
  return n;
}

TEST(NewJobs, EachGoesToItsLaneAndASendAtLaterThanNowIsScheduled) {
  const std::vector<job::Notification> jobs{
      notification('a', std::nullopt, std::nullopt),
      notification('b', "high", 2000),  // in the future: 2000 s > now 1500 s
      notification('c', "bulk", 1000),  // already due
      notification('d', std::nullopt, 1500),  // due exactly now
  };
  const auto planned = new_jobs(jobs, 1'500'000);
  ASSERT_EQ(planned.size(), 4u);
  EXPECT_EQ(planned[0].lane, Lane::default_lane());
  EXPECT_EQ(planned[0].due_ms, std::nullopt);
  EXPECT_EQ(planned[1].lane, Lane::high());
  EXPECT_EQ(planned[1].due_ms, 2'000'000);
  EXPECT_EQ(planned[2].lane, Lane::bulk());
  EXPECT_EQ(planned[2].due_ms, std::nullopt);
  EXPECT_EQ(planned[3].due_ms, std::nullopt);
  for (std::size_t i = 0; i < planned.size(); ++i) {
    auto decoded = job::decode_job_string(planned[i].text);
    ASSERT_TRUE(std::holds_alternative<std::vector<job::Notification>>(decoded));
    EXPECT_EQ(std::get<std::vector<job::Notification>>(decoded).at(0), jobs[i]);
  }
}

class ProducerTest : public ::testing::Test {
 protected:
  ProducerTest() : sync_(server_), client_(io_.get_executor(), config()), producer_(client_, keys_) {
    client_.start();
  }

  redis::ClientConfig config() {
    redis::ClientConfig c = test::client_config(server_);
    c.command_timeout = 500ms;  // a stalled Redis answers nothing: the outcome is unknown
    return c;
  }

  Enqueued enqueue(const std::vector<NewJob>& jobs) {
    return test::run_until_done(io_, producer_.enqueue(jobs));
  }
  bool connected() { return test::run_until(io_, [&] { return client_.connected(); }); }
  long long stat_calls(const std::string& command) {
    auto info = sync_.command({"INFO", "commandstats"});
    const std::string text(info->str, info->len);
    const auto at = text.find("cmdstat_" + command + ":calls=");
    if (at == std::string::npos) return 0;
    return std::stoll(text.substr(at + command.size() + 15));
  }

  test::RedisServer server_;
  test::SyncRedis sync_;
  asio::io_context io_;
  redis::Client client_;
  Keys keys_;
  Producer producer_;
};

TEST_F(ProducerTest, ImmediateAndScheduledJobsOfEveryLaneAreStoredInOneTransactionPerLaneInOnePipeline) {
  ASSERT_TRUE(connected());
  sync_.command({"CONFIG", "RESETSTAT"});
  const std::vector<NewJob> jobs{
      {Lane::default_lane(), "d1", std::nullopt},
      {Lane::high(), "h1", std::nullopt},
      {Lane::default_lane(), "d2", std::nullopt},
      {Lane::bulk(), "b-later", 9'000'000},
      {Lane::high(), "h-later", 8'000'000},
  };
  const Enqueued result = enqueue(jobs);
  EXPECT_EQ(result.stored, Stored::all) << result.problem;
  EXPECT_TRUE(result.problem.empty());

  // Queued in order (consumers take from the right), scheduled with their due time as score.
  EXPECT_EQ(sync_.lrange(keys_.lane(Lane::default_lane()).queue), (std::vector<std::string>{"d2", "d1"}));
  EXPECT_EQ(sync_.lrange(keys_.lane(Lane::high()).queue), std::vector<std::string>{"h1"});
  EXPECT_EQ(sync_.llen(keys_.lane(Lane::bulk()).queue), 0);
  EXPECT_EQ(sync_.command({"ZSCORE", keys_.lane(Lane::bulk()).retry, "b-later"})->str, std::string("9000000"));
  EXPECT_EQ(sync_.command({"ZSCORE", keys_.lane(Lane::high()).retry, "h-later"})->str, std::string("8000000"));
  EXPECT_EQ(sync_.zcard(keys_.lane(Lane::default_lane()).retry), 0);

  // One MULTI/EXEC per lane (Redis Cluster keeps a transaction in one slot: one lane's tag).
  EXPECT_EQ(stat_calls("multi"), 3);
  EXPECT_EQ(stat_calls("exec"), 3);
  EXPECT_EQ(stat_calls("lpush"), 2);  // one per lane with jobs due now
  EXPECT_EQ(stat_calls("zadd"), 2);   // one per lane with scheduled jobs
}

TEST_F(ProducerTest, NothingToStoreSendsNothing) {
  ASSERT_TRUE(connected());
  sync_.command({"CONFIG", "RESETSTAT"});
  EXPECT_EQ(enqueue({}).stored, Stored::all);
  EXPECT_EQ(stat_calls("multi"), 0);
}

TEST_F(ProducerTest, RedisDownMeansNotStored) {
  ASSERT_TRUE(connected());
  server_.stop();
  ASSERT_TRUE(test::run_until(io_, [&] { return !client_.connected(); }));
  const Enqueued result = enqueue({{Lane::default_lane(), "job", std::nullopt}});
  EXPECT_EQ(result.stored, Stored::none);
  EXPECT_NE(result.problem.find("redis: "), std::string::npos) << result.problem;
}

TEST_F(ProducerTest, ATransactionRedisRefusesStoresNothing) {
  ASSERT_TRUE(connected());
  sync_.command({"CONFIG", "SET", "maxmemory", "1"});  // every write is refused: OOM
  const Enqueued result = enqueue({{Lane::default_lane(), "a", std::nullopt}, {Lane::high(), "b", 5}});
  sync_.command({"CONFIG", "SET", "maxmemory", "0"});
  EXPECT_EQ(result.stored, Stored::none);
  EXPECT_NE(result.problem.find("OOM"), std::string::npos) << result.problem;
  EXPECT_EQ(sync_.command({"DBSIZE"})->integer, 0);
}

TEST_F(ProducerTest, OneLaneStoredAndAnotherRefusedIsUnknownNeverAll) {
  ASSERT_TRUE(connected());
  sync_.command({"SET", keys_.lane(Lane::high()).queue, "not a list"});  // LPUSH there fails: WRONGTYPE
  const Enqueued result = enqueue({{Lane::default_lane(), "d", std::nullopt}, {Lane::high(), "h", std::nullopt}});
  EXPECT_EQ(result.stored, Stored::unknown) << result.problem;
  EXPECT_NE(result.problem.find("WRONGTYPE"), std::string::npos) << result.problem;
  EXPECT_NE(result.problem.find("the jobs of lane default were stored"), std::string::npos) << result.problem;
  EXPECT_EQ(sync_.lrange(keys_.lane(Lane::default_lane()).queue), std::vector<std::string>{"d"});
}

TEST_F(ProducerTest, NoAnswerFromAStalledRedisMeansTheOutcomeIsUnknown) {
  ASSERT_TRUE(connected());
  ASSERT_EQ(::kill(server_.pid(), SIGSTOP), 0);
  const Enqueued result = enqueue({{Lane::default_lane(), "job", std::nullopt}});
  ASSERT_EQ(::kill(server_.pid(), SIGCONT), 0);
  EXPECT_EQ(result.stored, Stored::unknown) << result.problem;
}

}  // namespace
}  // namespace pushgw::queue
