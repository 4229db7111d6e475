// The client in Redis Cluster mode against three real cluster masters (tests/support/redis_cluster).

#include "pushgw/redis/client.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include <boost/asio.hpp>

#include "pushgw/redis/cluster_slots.hpp"
#include "support/asio_wait.hpp"
#include "support/eventually.hpp"
#include "support/process.hpp"
#include "support/redis_cluster.hpp"
#include "pushgw/common/coroutine_warnings.hpp"  // last: GCC 12 false positive

namespace pushgw::redis {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using test::SyncRedis;
using ::testing::HasSubstr;

ClientConfig cluster_config(const std::vector<config::HostPort>& seeds) {
  ClientConfig config;
  config.endpoint.host.clear();
  config.endpoint.port = 0;
  config.cluster_nodes = seeds;
  config.connect_timeout = 2s;
  config.command_timeout = 10s;
  config.reconnect_min = 20ms;
  config.reconnect_max = 200ms;
  config.name = "pushgw-cluster-test";
  return config;
}

// One key per master: "k<n>" for the first n whose slot each master serves.
std::vector<std::string> one_key_per_node(test::RedisCluster& cluster) {
  std::vector<std::string> keys(cluster.size());
  for (int n = 0; std::count(keys.begin(), keys.end(), "") > 0; ++n) {
    const std::string key = "k" + std::to_string(n);
    std::string& slot_key = keys[cluster.owner_of(key_slot(key))];
    if (slot_key.empty()) slot_key = key;
  }
  return keys;
}

std::string string_of(const test::ReplyPtr& reply) {
  if (reply->type == REDIS_REPLY_STRING) return std::string(reply->str, reply->len);
  if (reply->type == REDIS_REPLY_ERROR) return "(error) " + std::string(reply->str, reply->len);
  return "(not a string)";
}

class ClusterClientTest : public ::testing::Test {
 protected:
  ClientConfig config_with_a_dead_seed_first() {
    std::vector<config::HostPort> seeds{{"127.0.0.1", test::free_tcp_port()}};
    for (std::size_t i = 0; i < cluster.size(); ++i) seeds.push_back({"127.0.0.1", cluster.node(i).port()});
    return cluster_config(seeds);
  }

  test::RedisCluster cluster{3};
  asio::io_context io;
};

TEST_F(ClusterClientTest, SendsEachCommandToItsSlotsMasterAndAnswersASplitPipelineInOrder) {
  const std::vector<std::string> keys = one_key_per_node(cluster);
  Client client(io.get_executor(), config_with_a_dead_seed_first());
  client.start();
  test::run_until_done(io, [&]() -> asio::awaitable<void> {
    EXPECT_TRUE(co_await test::eventually_async([&] { return client.connected(); })) << client.last_error_text();
    // One pipeline over three masters, keyless commands among them.
    Request request;
    request.push("SET", keys[0], "zero");
    request.push("PING");
    request.push("SET", keys[1], "one");
    request.push("SET", keys[2], "two");
    request.push("GET", keys[0]);
    request.push("INCR", keys[2]);  // an error reply, in its place
    Result result = co_await client.exec(std::move(request));
    EXPECT_FALSE(result.ec) << result.ec.message();
    EXPECT_EQ(result.replies.size(), 6u);
    if (result.replies.size() == 6u) {
      EXPECT_EQ(result.replies[1].str, "PONG");
      EXPECT_EQ(result.replies[4].str, "zero");
      EXPECT_TRUE(result.replies[5].is_error());
    }
  }());
  for (std::size_t i = 0; i < keys.size(); ++i) {
    EXPECT_EQ(SyncRedis(cluster.node(i)).get(keys[i]), (std::vector<std::string>{"zero", "one", "two"}[i]));
  }
  EXPECT_THAT(client.server(), HasSubstr("cluster of 3 master(s): 127.0.0.1:"));
}

TEST_F(ClusterClientTest, ATransactionAndAScriptRunOnTheirHashTagsMaster) {
  Client client(io.get_executor(), config_with_a_dead_seed_first());
  client.start();
  test::run_until_done(io, [&]() -> asio::awaitable<void> {
    EXPECT_TRUE(co_await test::eventually_async([&] { return client.connected(); })) << client.last_error_text();
    Request transaction;
    transaction.push("MULTI");
    transaction.push("LPUSH", "pushgw:{bulk}:queue", "a", "b");
    transaction.push("ZADD", "pushgw:{bulk}:retry", "1", "c");
    transaction.push("EXEC");
    Result done = co_await client.exec(std::move(transaction));
    EXPECT_FALSE(done.ec);
    EXPECT_EQ(done.replies.size(), 4u);
    if (done.replies.size() == 4u) {
      EXPECT_EQ(done.replies[3].elements.size(), 2u);
    }
    Request script;
    script.push("EVAL", "return redis.call('LLEN', KEYS[1]) + redis.call('ZCARD', KEYS[2])", "2",
                "pushgw:{bulk}:queue", "pushgw:{bulk}:retry");
    Result counted = co_await client.exec(std::move(script));
    EXPECT_FALSE(counted.ec);
    EXPECT_EQ(counted.replies.at(0).integer, 3);
    // BLMOVE blocks on its master like on a single server.
    Request move;
    move.push("BLMOVE", "pushgw:{bulk}:queue", "pushgw:{bulk}:processing:x", "RIGHT", "LEFT", "1");
    Result moved = co_await client.exec(std::move(move));
    EXPECT_EQ(moved.replies.at(0).str, "a");
  }());
  const std::size_t owner = cluster.owner_of(key_slot("bulk"));
  EXPECT_EQ(SyncRedis(cluster.node(owner)).llen("pushgw:{bulk}:queue"), 1);
}

TEST_F(ClusterClientTest, FollowsAskDuringASlotMigrationAndMovedAfterIt) {
  Client client(io.get_executor(), config_with_a_dead_seed_first());
  client.start();
  const std::uint16_t slot = key_slot("default");
  const std::size_t from = cluster.owner_of(slot);
  const std::size_t to = (from + 1) % cluster.size();
  test::run_until_done(io, [&]() -> asio::awaitable<void> {
    EXPECT_TRUE(co_await test::eventually_async([&] { return client.connected(); })) << client.last_error_text();
    for (int i = 0; i < 10; ++i) {
      Request r;
      r.push("RPUSH", "pushgw:{default}:k" + std::to_string(i), "before");
      Result pushed = co_await client.exec(std::move(r));
      EXPECT_FALSE(pushed.ec);
    }
    cluster.begin_migration(slot, to);
    EXPECT_EQ(cluster.migrate_keys(slot, 5), 5u);
    // Five keys are on the target now: the source answers ASK for them (and for new keys), and
    // each command lands where its key is.
    for (int i = 0; i < 12; ++i) {
      Request r;
      r.push("RPUSH", "pushgw:{default}:k" + std::to_string(i), "during");
      Result pushed = co_await client.exec(std::move(r));
      EXPECT_FALSE(pushed.ec);
      EXPECT_FALSE(pushed.replies.at(0).is_error()) << pushed.replies.at(0);
    }
    // A transaction on a key already moved: MULTI/EXEC goes after ASKING as a whole.
    Request transaction;
    transaction.push("MULTI");
    transaction.push("RPUSH", "pushgw:{default}:k11", "in-transaction");
    transaction.push("EXEC");
    Result done = co_await client.exec(std::move(transaction));
    EXPECT_FALSE(done.ec);
    EXPECT_FALSE(done.replies.at(2).is_error()) << done.replies.at(2);
    cluster.finish_migration(slot);
    // The source now answers MOVED; the client follows and remembers.
    for (int i = 0; i < 12; ++i) {
      Request r;
      r.push("RPUSH", "pushgw:{default}:k" + std::to_string(i), "after");
      Result pushed = co_await client.exec(std::move(r));
      EXPECT_FALSE(pushed.ec);
      EXPECT_FALSE(pushed.replies.at(0).is_error()) << pushed.replies.at(0);
    }
  }());
  SyncRedis target(cluster.node(to));
  for (int i = 0; i < 12; ++i) {
    std::vector<std::string> expected;
    if (i < 10) expected.push_back("before");
    expected.push_back("during");
    if (i == 11) expected.push_back("in-transaction");
    expected.push_back("after");
    EXPECT_EQ(target.lrange("pushgw:{default}:k" + std::to_string(i)), expected) << i;
  }
  EXPECT_EQ(SyncRedis(cluster.node(from)).command({"DBSIZE"})->integer, 0);
}

TEST_F(ClusterClientTest, NoReachableSeedIsClusterFailedNamingEachSeed) {
  const std::uint16_t dead = test::free_tcp_port();
  test::RedisServer plain;  // not a cluster node
  Client client(io.get_executor(), cluster_config({{"127.0.0.1", dead}, {"127.0.0.1", plain.port()}}));
  client.start();
  test::run_until_done(io, [&]() -> asio::awaitable<void> {
    EXPECT_TRUE(co_await test::eventually_async([&] { return client.last_error() == error::cluster_failed; }))
        << client.last_error_text();
    EXPECT_FALSE(client.connected());
    Request r;
    r.push("GET", "x");
    Result refused = co_await client.exec(std::move(r));
    EXPECT_EQ(refused.ec, error::not_connected);
  }());
  const std::string why = client.last_error_text();
  EXPECT_THAT(why, HasSubstr("127.0.0.1:" + std::to_string(dead) + ": Connection refused")) << why;
  EXPECT_THAT(why, HasSubstr("127.0.0.1:" + std::to_string(plain.port()) +
                             ": CLUSTER SLOTS answered \"ERR This instance has cluster support disabled\""))
      << why;
}

TEST_F(ClusterClientTest, AMasterThatGoesAwayIsNamedAndItsSlotsServedAgainWhenItReturns) {
  const std::vector<std::string> keys = one_key_per_node(cluster);
  Client client(io.get_executor(), config_with_a_dead_seed_first());
  client.start();
  test::run_until_done(io, [&]() -> asio::awaitable<void> {
    EXPECT_TRUE(co_await test::eventually_async([&] { return client.connected(); })) << client.last_error_text();
    cluster.node(2).stop();
    EXPECT_TRUE(co_await test::eventually_async([&] { return !client.connected(); }));
    Request r;
    r.push("SET", keys[2], "x");
    Result refused = co_await client.exec(std::move(r));
    EXPECT_TRUE(refused.ec == error::not_connected || refused.ec == error::connection_lost) << refused.ec.message();
    EXPECT_THAT(client.last_error_text(), HasSubstr("127.0.0.1:" + std::to_string(cluster.node(2).port())));
    // The other masters keep serving their slots.
    Request other;
    other.push("SET", keys[0], "still");
    Result served = co_await client.exec(std::move(other));
    EXPECT_FALSE(served.ec) << served.ec.message();
    cluster.node(2).start();
    EXPECT_TRUE(co_await test::eventually_async([&] { return client.connected(); }, 60s)) << client.last_error_text();
    // A restarted master answers CLUSTERDOWN until it has rejoined; the client hands that
    // reply on after its few retries, and a caller tries again later.
    Result back;
    for (int attempt = 0; attempt < 100; ++attempt) {
      Request again;
      again.push("SET", keys[2], "back");
      back = co_await client.exec(std::move(again));
      if (!back.ec && back.replies.at(0).str == "OK") break;
      asio::steady_timer pause(io, 100ms);
      co_await pause.async_wait(asio::use_awaitable);
    }
    EXPECT_FALSE(back.ec) << back.ec.message();
    EXPECT_EQ(back.replies.at(0).str, "OK") << back.replies.at(0);
  }());
  EXPECT_EQ(string_of(SyncRedis(cluster.node(2)).command({"GET", keys[2]})), "back");
}

}  // namespace
}  // namespace pushgw::redis
