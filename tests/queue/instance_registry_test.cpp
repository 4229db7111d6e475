// The instance registry against a real redis-server: heartbeats, dead instances, the reaper
// lease script.
#include "pushgw/queue/instance_registry.hpp"

#include <gtest/gtest.h>

#include <boost/asio.hpp>

#include "support/asio_wait.hpp"
#include "support/eventually.hpp"
#include "support/redis_client.hpp"
#include "support/redis_server.hpp"

namespace pushgw::queue {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

class InstanceRegistryTest : public ::testing::Test {
 protected:
  InstanceRegistryTest() : sync_(server_), client_(io_.get_executor(), test::client_config(server_)) {
    client_.start();
  }

  // Runs `task` on io_ once the client is connected; its result.
  template <class T>
  T run(asio::awaitable<T> task) {
    EXPECT_TRUE(test::run_until(io_, [&] { return client_.connected(); }));
    return test::run_until_done(io_, std::move(task));
  }

  bool take_lease(InstanceRegistry& registry, std::chrono::milliseconds ttl) {
    auto [ec, held] = run(registry.take_reaper_lease(ttl));
    EXPECT_FALSE(ec) << ec.message();
    return held;
  }
  long long lease_ttl_ms() { return sync_.command({"PTTL", keys_.reaper_lease()})->integer; }

  test::RedisServer server_;
  test::SyncRedis sync_;
  asio::io_context io_;
  redis::Client client_;
  Keys keys_;
  InstanceRegistry pod1_{client_, keys_, "pod-1"};
  InstanceRegistry pod2_{client_, keys_, "pod-2"};
};

TEST_F(InstanceRegistryTest, AnInstanceWhoseHeartbeatExpiredIsDeadUntilForgotten) {
  EXPECT_FALSE(run(pod1_.heartbeat("{}", 10s)));
  EXPECT_FALSE(run(pod2_.heartbeat(R"({"host":"b"})", 10s)));
  EXPECT_EQ(sync_.get(keys_.instance("pod-2")), R"({"host":"b"})");
  auto [ec, dead] = run(pod1_.dead_instances());
  EXPECT_FALSE(ec);
  EXPECT_TRUE(dead.empty());

  sync_.del({keys_.instance("pod-2")});  // pod-2's heartbeat expires
  auto [ec2, dead2] = run(pod1_.dead_instances());
  EXPECT_EQ(dead2, std::vector<std::string>{"pod-2"});
  auto [ec3, seen_by_pod2] = run(pod2_.dead_instances());
  EXPECT_TRUE(seen_by_pod2.empty()) << "an instance never reports itself";

  EXPECT_FALSE(run(pod1_.forget("pod-2")));
  EXPECT_EQ(sync_.command({"SISMEMBER", keys_.instances(), "pod-2"})->integer, 0);
  EXPECT_EQ(sync_.command({"SISMEMBER", keys_.instances(), "pod-1"})->integer, 1);
}

TEST_F(InstanceRegistryTest, HeartbeatSetsItsTtlAndSignOffLeavesNoTrace) {
  EXPECT_FALSE(run(pod1_.heartbeat("{}", 10s)));
  const long long ttl = sync_.command({"PTTL", keys_.instance("pod-1")})->integer;
  EXPECT_GT(ttl, 0);
  EXPECT_LE(ttl, 10000);
  EXPECT_FALSE(run(pod1_.sign_off()));
  EXPECT_FALSE(sync_.get(keys_.instance("pod-1")));
  EXPECT_EQ(sync_.command({"SISMEMBER", keys_.instances(), "pod-1"})->integer, 0);
}

TEST_F(InstanceRegistryTest, AFreeLeaseIsTakenWithItsTtl) {
  EXPECT_TRUE(take_lease(pod1_, 10s));
  EXPECT_EQ(sync_.get(keys_.reaper_lease()), "pod-1");
  EXPECT_GT(lease_ttl_ms(), 0);
  EXPECT_LE(lease_ttl_ms(), 10000);
}

TEST_F(InstanceRegistryTest, TheHoldersLeaseIsRenewedWithAFreshTtl) {
  ASSERT_TRUE(take_lease(pod1_, 10s));
  sync_.command({"PEXPIRE", keys_.reaper_lease(), "1000"});  // most of it used up
  EXPECT_TRUE(take_lease(pod1_, 60s));
  EXPECT_EQ(sync_.get(keys_.reaper_lease()), "pod-1");
  EXPECT_GT(lease_ttl_ms(), 10000) << "the renewal must set the new ttl, not keep the old one";
}

TEST_F(InstanceRegistryTest, ALeaseHeldByAnotherInstanceIsRefusedAndLeftAlone) {
  ASSERT_TRUE(take_lease(pod1_, 10s));
  sync_.command({"PEXPIRE", keys_.reaper_lease(), "5000"});
  EXPECT_FALSE(take_lease(pod2_, 60s));
  EXPECT_EQ(sync_.get(keys_.reaper_lease()), "pod-1");
  EXPECT_LE(lease_ttl_ms(), 5000) << "a refused instance must not extend another's lease";
}

TEST_F(InstanceRegistryTest, AnExpiredLeaseIsTakenByTheNextInstance) {
  ASSERT_TRUE(take_lease(pod1_, 50ms));
  ASSERT_TRUE(test::eventually([&] { return !sync_.get(keys_.reaper_lease()).has_value(); }));
  EXPECT_TRUE(take_lease(pod2_, 10s));
  EXPECT_EQ(sync_.get(keys_.reaper_lease()), "pod-2");
  EXPECT_FALSE(take_lease(pod1_, 10s));
}

TEST_F(InstanceRegistryTest, RedisDownIsAnErrorNotALease) {
  ASSERT_TRUE(test::run_until(io_, [&] { return client_.connected(); }));
  server_.stop();
  ASSERT_TRUE(test::run_until(io_, [&] { return !client_.connected(); }));
  auto [ec, held] = test::run_until_done(io_, pod1_.take_reaper_lease(10s));
  EXPECT_TRUE(ec);
  EXPECT_FALSE(held);
}

}  // namespace
}  // namespace pushgw::queue
