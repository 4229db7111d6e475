// Redis Cluster's routing rules, without a server.

#include "pushgw/redis/cluster_slots.hpp"

#include <gtest/gtest.h>

#include "support/redis_replies.hpp"

namespace pushgw::redis {
namespace {

using test::array;
using test::bulk;
using test::error_reply;
using test::integer;

TEST(KeySlot, MatchesRedisForPlainAndTaggedKeys) {
  // Values from CLUSTER KEYSLOT on Redis 7.0.
  EXPECT_EQ(key_slot("123456789"), 12739);  // CRC16/XMODEM's check value 0x31C3
  EXPECT_EQ(key_slot("foo"), 12182);
  EXPECT_EQ(key_slot("bar"), 5061);
  EXPECT_EQ(key_slot("pushgw:{default}:queue"), key_slot("default"));
  EXPECT_EQ(key_slot("pushgw:{default}:processing:i-1"), key_slot("pushgw:{default}:retry"));
  // Only the first {...} counts, and an empty one means the whole key.
  EXPECT_EQ(key_slot("a{bar}{foo}"), key_slot("bar"));
  EXPECT_EQ(key_slot("foo{}{bar}"), key_slot(std::string_view("foo{}{bar}")));
  EXPECT_NE(key_slot("foo{}{bar}"), key_slot("bar"));
  EXPECT_EQ(key_slot("foo{{bar}}zap"), key_slot("{bar"));
  EXPECT_EQ(key_slot("no-close{tag"), key_slot(std::string_view("no-close{tag")));
}

TEST(RoutingArgument, KeysOfCommandsScriptsAndKeylessCommands) {
  EXPECT_EQ(routing_argument({"LPUSH", "k", "v"}), 1u);
  EXPECT_EQ(routing_argument({"lpush", "k", "v"}), 1u);
  EXPECT_EQ(routing_argument({"EVALSHA", "sha", "2", "k1", "k2", "arg"}), 3u);
  EXPECT_EQ(routing_argument({"EVAL", "return 1", "0"}), std::nullopt);
  EXPECT_EQ(routing_argument({"SSUBSCRIBE", "channel"}), 1u);
  EXPECT_EQ(routing_argument({"XINFO", "STREAM", "k"}), 2u);
  for (const char* keyless : {"PING", "MULTI", "EXEC", "ASKING", "INFO", "SUBSCRIBE", "PUBLISH", "CLUSTER"}) {
    EXPECT_EQ(routing_argument({keyless, "x"}), std::nullopt) << keyless;
  }
  EXPECT_EQ(routing_argument({"PING"}), std::nullopt);
}

TEST(ParseRedirect, MovedAskAndTransientRefusals) {
  auto moved = parse_redirect(error_reply("MOVED 3999 127.0.0.1:6381"));
  ASSERT_TRUE(moved);
  EXPECT_EQ(moved->kind, Redirect::Kind::moved);
  EXPECT_EQ(moved->slot, 3999);
  EXPECT_EQ(moved->node, (config::HostPort{"127.0.0.1", 6381}));

  auto ask = parse_redirect(error_reply("ASK 16383 ::1:7000"));
  ASSERT_TRUE(ask);
  EXPECT_EQ(ask->kind, Redirect::Kind::ask);
  EXPECT_EQ(ask->slot, 16383);
  EXPECT_EQ(ask->node, (config::HostPort{"::1", 7000}));

  auto hostless = parse_redirect(error_reply("MOVED 1 :7000"));
  ASSERT_TRUE(hostless);
  EXPECT_EQ(hostless->node, (config::HostPort{"", 7000}));

  EXPECT_EQ(parse_redirect(error_reply("TRYAGAIN Multiple keys request during rehashing of slot"))->kind,
            Redirect::Kind::try_again);
  EXPECT_EQ(parse_redirect(error_reply("CLUSTERDOWN The cluster is down"))->kind, Redirect::Kind::cluster_down);

  for (const char* other : {"MOVED", "MOVED 3999", "MOVED 16384 h:1", "MOVED x h:1", "ASK 1 h:0", "ASK 1 h:port",
                            "ERR unknown command", "CROSSSLOT Keys in request don't hash to the same slot"}) {
    EXPECT_FALSE(parse_redirect(error_reply(other))) << other;
  }
  EXPECT_FALSE(parse_redirect(bulk("MOVED 1 h:1")));  // not an error reply
}

TEST(ParseClusterSlots, RangesWithTheirMasters) {
  const Reply reply = array({
      array({integer(0), integer(5460), array({bulk("10.0.0.1"), integer(6379), bulk("id1")}),
            array({bulk("10.0.0.4"), integer(6379), bulk("id4")})}),
      array({integer(5461), integer(16383), array({bulk(""), integer(6380), bulk("id2")})}),
  });
  const SlotMapResult map = parse_cluster_slots(reply, {"seed.redis", 6379});
  ASSERT_EQ(map.error, "");
  EXPECT_EQ(map.ranges, (std::vector<SlotRange>{{0, 5460, {"10.0.0.1", 6379}}, {5461, 16383, {"seed.redis", 6380}}}));
}

TEST(ParseClusterSlots, SaysWhatIsWrong) {
  EXPECT_EQ(parse_cluster_slots(error_reply("ERR This instance has cluster support disabled"), {"h", 1}).error,
            "CLUSTER SLOTS answered \"ERR This instance has cluster support disabled\"");
  EXPECT_EQ(parse_cluster_slots(array({}), {"h", 1}).error,
            "CLUSTER SLOTS answered no slot ranges (no slot is assigned to a master yet)");
  EXPECT_EQ(parse_cluster_slots(array({array({integer(5), integer(4), array({bulk("h"), integer(1)})})}), {"h", 1}).error,
            "CLUSTER SLOTS range 0: not a slot range within 0-16383");
  EXPECT_EQ(parse_cluster_slots(array({array({integer(0), integer(1), array({bulk("h")})})}), {"h", 1}).error,
            "CLUSTER SLOTS range 0: the master is not [host, port, ...]");
  EXPECT_EQ(parse_cluster_slots(bulk("x"), {"h", 1}).error,
            "CLUSTER SLOTS answered something other than a list of slot ranges");
}

TEST(SlotMap, CoversAssignedRangesAndFollowsAMove) {
  SlotMap map;
  EXPECT_TRUE(map.empty());
  EXPECT_EQ(map.master_of(0), nullptr);
  map.assign({{0, 8191, {"a", 1}}, {8192, 16000, {"b", 2}}});
  EXPECT_EQ(map.covered(), 16001u);
  EXPECT_EQ(map.masters().size(), 2u);
  EXPECT_EQ(*map.master_of(8191), (config::HostPort{"a", 1}));
  EXPECT_EQ(*map.master_of(8192), (config::HostPort{"b", 2}));
  EXPECT_EQ(map.master_of(16001), nullptr);
  map.move(16001, {"c", 3});
  map.move(5, {"b", 2});
  EXPECT_EQ(map.covered(), 16002u);
  EXPECT_EQ(*map.master_of(16001), (config::HostPort{"c", 3}));
  EXPECT_EQ(*map.master_of(5), (config::HostPort{"b", 2}));
  EXPECT_EQ(map.masters().size(), 3u);
  map.assign({{0, 16383, {"c", 3}}});
  EXPECT_EQ(map.covered(), 16384u);
  EXPECT_EQ(map.masters(), (std::vector<config::HostPort>{{"c", 3}}));
}

}  // namespace
}  // namespace pushgw::redis
