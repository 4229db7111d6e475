// Maintenance against a real redis-server: leftovers at start, due jobs, the reaper.
#include "pushgw/queue/maintenance.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include <boost/asio.hpp>

#include "pushgw/job/codec.hpp"
#include "support/asio_wait.hpp"
#include "support/redis_server.hpp"

namespace pushgw::queue {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

const std::string kJob = R"({"platform":"ios","tokens":[")" + std::string(64, 'a') + R"("],"title":"t"})";

class MaintenanceTest : public ::testing::Test {
 protected:
  MaintenanceTest() : sync_(server_) {
    redis::ClientConfig c;
    c.endpoint.host = server_.host();
    c.endpoint.port = server_.port();
    client_ = std::make_unique<redis::Client>(io_.get_executor(), c);
    client_->start();
    store_ = std::make_unique<JobStore>(*client_, keys_, "pod-1");
    registry_ = std::make_unique<InstanceRegistry>(*client_, keys_, "pod-1");
    config_.heartbeat_interval = 50ms;
    config_.heartbeat_ttl = 500ms;
    config_.reaper_interval = 50ms;
    config_.poll_interval = 20ms;
  }

  void run_until(const std::function<bool()>& done, std::chrono::seconds limit = 30s) {
    ASSERT_TRUE(test::run_until(io_, done, limit));
  }

  bool recover(Maintenance& m) {
    bool done = false, ok = false;
    asio::co_spawn(io_, [&]() -> asio::awaitable<void> {
      ok = co_await m.recover(std::chrono::steady_clock::now() + 10s);
      done = true;
    }, asio::detached);
    run_until([&] { return done; });
    return ok;
  }

  void stop(Maintenance& m) {
    bool stopped = false;
    asio::co_spawn(io_, [&]() -> asio::awaitable<void> {
      co_await m.stop();
      stopped = true;
    }, asio::detached);
    run_until([&] { return stopped; });
  }

  test::RedisServer server_;
  test::SyncRedis sync_;
  asio::io_context io_;
  Keys keys_;
  std::unique_ptr<redis::Client> client_;
  std::unique_ptr<JobStore> store_;
  std::unique_ptr<InstanceRegistry> registry_;
  config::QueueConfig config_;
};

TEST_F(MaintenanceTest, RecoverReturnsThisInstanceIdsLeftoversAndHeartbeats) {
  sync_.command({"LPUSH", keys_.processing(Lane::high(), "pod-1"), kJob});
  Maintenance m(io_.get_executor(), *store_, *registry_, config_);
  EXPECT_TRUE(recover(m));
  const auto queued = sync_.lrange(keys_.lane(Lane::high()).queue);
  ASSERT_EQ(queued.size(), 1u);
  EXPECT_EQ(std::get<std::vector<job::Notification>>(job::decode_job_string(queued[0])).at(0).job->redeliveries, 1);
  EXPECT_TRUE(sync_.get(keys_.instance("pod-1")).has_value());
}

TEST_F(MaintenanceTest, DueJobsMoveToTheQueueAndDeadInstancesAreReaped) {
  const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch()).count();
  sync_.command({"ZADD", keys_.lane(Lane::default_lane()).retry, std::to_string(now_ms - 1), "due"});
  sync_.command({"ZADD", keys_.lane(Lane::default_lane()).retry, std::to_string(now_ms + 3600000), "later"});
  // pod-9 died: in the set, no heartbeat, a job in its processing list.
  sync_.command({"SADD", keys_.instances(), "pod-9"});
  sync_.command({"LPUSH", keys_.processing(Lane::bulk(), "pod-9"), kJob});

  Maintenance m(io_.get_executor(), *store_, *registry_, config_);
  ASSERT_TRUE(recover(m));
  m.start();
  run_until([&] {
    return sync_.llen(keys_.lane(Lane::default_lane()).queue) == 1 && sync_.llen(keys_.lane(Lane::bulk()).queue) == 1 &&
           sync_.command({"SISMEMBER", keys_.instances(), "pod-9"})->integer == 0;
  });
  EXPECT_EQ(sync_.lrange(keys_.lane(Lane::default_lane()).queue), std::vector<std::string>{"due"});
  EXPECT_EQ(sync_.zcard(keys_.lane(Lane::default_lane()).retry), 1);
  EXPECT_EQ(sync_.llen(keys_.processing(Lane::bulk(), "pod-9")), 0);

  stop(m);
  EXPECT_FALSE(sync_.get(keys_.instance("pod-1")).has_value());  // signed off
}

TEST_F(MaintenanceTest, AJobStrandedInThisInstancesListGoesBack) {
  // In the processing list but held by no job here (a take whose reply was lost).
  sync_.command({"LPUSH", keys_.processing(Lane::default_lane(), "pod-1"), "stranded"});
  Maintenance m(io_.get_executor(), *store_, *registry_, config_);
  m.start();
  run_until([&] { return sync_.llen(keys_.lane(Lane::default_lane()).queue) == 1; });
  EXPECT_EQ(sync_.llen(keys_.processing(Lane::default_lane(), "pod-1")), 0);
}

// Issue 13, class 1: a poison element in a dead instance's list (a number beyond double, which
// made the reaper loop end) goes back unchanged with the valid jobs beside it; the dispatcher
// dead-letters it. The reaper goes on with the next dead instance.
TEST_F(MaintenanceTest, PoisonElementsNeverStopTheReaper) {
  const std::string poison = R"({"platform":"ios","tokens":["x"],"badge":1e400})";
  sync_.command({"SADD", keys_.instances(), "pod-8"});
  sync_.command({"SADD", keys_.instances(), "pod-9"});
  sync_.command({"LPUSH", keys_.processing(Lane::default_lane(), "pod-8"), poison, kJob, std::string("\xff\xfe")});
  sync_.command({"LPUSH", keys_.processing(Lane::high(), "pod-9"), kJob});

  Maintenance m(io_.get_executor(), *store_, *registry_, config_);
  ASSERT_TRUE(recover(m));
  m.start();
  run_until([&] {
    return sync_.llen(keys_.lane(Lane::default_lane()).queue) == 3 && sync_.llen(keys_.lane(Lane::high()).queue) == 1 &&
           sync_.command({"SCARD", keys_.instances()})->integer == 1;  // only pod-1 is left
  });
  const auto queued = sync_.lrange(keys_.lane(Lane::default_lane()).queue);
  EXPECT_NE(std::find(queued.begin(), queued.end(), poison), queued.end());  // unchanged: not decodable
  EXPECT_EQ(sync_.llen(keys_.processing(Lane::default_lane(), "pod-8")), 0);
  EXPECT_EQ(sync_.llen(keys_.processing(Lane::high(), "pod-9")), 0);

  stop(m);
}

}  // namespace
}  // namespace pushgw::queue
