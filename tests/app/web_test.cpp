// Live web delivery end to end: two pushgw instances on one redis-server, SSE and WebSocket
// clients on each, notifications POSTed to one of them (DESIGN.md §5 "Live web delivery").

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <signal.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include "daemon.hpp"
#include "live_client.hpp"
#include "pushgw/common/base64url.hpp"
#include "support/eventually.hpp"
#include "support/http_client.hpp"
#include "support/redis_cluster.hpp"
#include "support/redis_server.hpp"
#include "support/sim_process.hpp"

namespace pushgw::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

const std::string kSecret = "a-web-secret-of-at-least-32-bytes-for-tests";

// A client token, minted here independently of the daemon's code: HS256 over
// base64url(header).base64url(claims).
std::string mint(const json& claims, const std::string& secret = kSecret) {
  const std::string signing_input = common::base64url_encode(R"({"alg":"HS256","typ":"JWT"})") + "." +
                                    common::base64url_encode(claims.dump());
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size(), mac, &mac_len);
  return signing_input + "." + common::base64url_encode(std::string(reinterpret_cast<char*>(mac), mac_len));
}

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string token_for(std::vector<std::string> channels, std::int64_t exp_in = 600) {
  return mint({{"channels", channels}, {"exp", unix_now() + exp_in}, {"sub", "tester"}});
}

std::string web_push(const std::string& channel, const std::string& title) {
  return json{{"notifications", {{{"platform", "web"}, {"tokens", {channel}}, {"title", title}, {"message", "m"}}}}}
      .dump();
}

class WebTest : public ::testing::Test {
 protected:
  DaemonOptions options(const std::string& instance, const std::string& web_extra = {}) {
    DaemonOptions o;
    o.redis_url = redis_.url();
    o.consume = true;
    o.instance_id = instance;
    o.provider_endpoint = sim_.endpoint();  // so that /readyz, which waits for the web subscriber, can be 200
    o.fcm_service_account = sim_.service_account_file();
    o.extra_yaml = "web:\n  enabled: true\n  secret: " + kSecret + "\n  ping_interval: 1s\n" + web_extra;
    return o;
  }

  void push(Daemon& daemon, const std::string& channel, const std::string& title) {
    const HttpResponse r = post_json(daemon.port(), "/push", web_push(channel, title));
    ASSERT_EQ(r.status, 202) << r.body << "\n" << daemon.log();
  }

  static std::string title_of(const std::string& message_json) {
    const json j = json::parse(message_json);
    return j.at("notification").at("title").get<std::string>();
  }

  RedisServer redis_;
  SimProcess sim_;
};

TEST_F(WebTest, ANotificationPostedToAReachesSseAndWebSocketClientsOnAAndB) {
  Daemon a(options("a"));
  Daemon b(options("b"));
  const std::string token = token_for({"user:1"});
  SseClient sse_a(a.port(), "/events?token=" + token);
  SseClient sse_b(b.port(), "/events?channels=user:1", {{"Authorization", "Bearer " + token}});
  WsClient ws_a(a.port(), "/ws?token=" + token);
  WsClient ws_b(b.port(), "/ws?channels=user:1&token=" + token);
  ASSERT_EQ(sse_a.status(), 200) << sse_a.body() << a.log();
  ASSERT_EQ(sse_b.status(), 200) << sse_b.body() << b.log();
  EXPECT_EQ(sse_a.headers().at("content-type"), "text/event-stream");
  ASSERT_TRUE(ws_a.open()) << ws_a.status() << a.log();
  ASSERT_TRUE(ws_b.open()) << ws_b.status() << b.log();

  push(a, "user:1", "hello");
  const auto ea = sse_a.next();
  const auto eb = sse_b.next();
  const auto wa = ws_a.next();
  const auto wb = ws_b.next();
  ASSERT_TRUE(ea && eb && wa && wb) << a.log() << b.log();
  EXPECT_EQ(ea->event, "notification");
  EXPECT_EQ(title_of(ea->data), "hello");
  EXPECT_EQ(title_of(eb->data), "hello");
  EXPECT_EQ(title_of(*wa), "hello");
  EXPECT_EQ(title_of(*wb), "hello");
  // One message id everywhere: the id of the channel's stream entry.
  const json frame = json::parse(*wb);
  EXPECT_EQ(frame.at("id").get<std::string>(), ea->id);
  EXPECT_EQ(frame.at("channel"), "user:1");
  EXPECT_EQ(ea->data, *wa);

  // And every client has it once.
  EXPECT_FALSE(sse_a.next(300ms));
  EXPECT_FALSE(ws_b.next(300ms));
  const HttpResponse metrics = get(a.port(), "/metrics");
  EXPECT_NE(metrics.body.find("pushgw_web_connections{transport=\"sse\"} 1"), std::string::npos) << metrics.body;
  EXPECT_NE(metrics.body.find("pushgw_web_messages_total{transport=\"ws\"} 1"), std::string::npos) << metrics.body;
  EXPECT_NE(metrics.body.find("pushgw_web_fanout_seconds_count 2"), std::string::npos) << metrics.body;
}

// Issue 17: on Redis Cluster, live delivery uses sharded pub/sub (SSUBSCRIBE on the master of
// the channel's slot, SPUBLISH in the publish script); when the slot moves to another master,
// the old one unsubscribes the instance, which subscribes on the new one and catches up from
// the channel's history: every client gets each message once.
TEST_F(WebTest, OnRedisClusterClientsOnTwoInstancesFollowTheirChannelsSlotToAnotherMaster) {
  RedisCluster cluster(3);
  const auto on_cluster = [&](const std::string& instance) {
    DaemonOptions o = options(instance);
    o.redis_url = "redis:///0";
    o.redis_yaml = "  cluster:\n    nodes: " + cluster.seeds_yaml() + "\n";
    return o;
  };
  Daemon a(on_cluster("a"));
  Daemon b(on_cluster("b"));
  const std::string token = token_for({"user:7"});
  SseClient sse_b(b.port(), "/events?token=" + token);
  WsClient ws_a(a.port(), "/ws?token=" + token);
  ASSERT_EQ(sse_b.status(), 200) << sse_b.body() << b.log();
  ASSERT_TRUE(ws_a.open()) << ws_a.status() << a.log();

  push(a, "user:7", "one");
  auto first_sse = sse_b.next();
  auto first_ws = ws_a.next();
  ASSERT_TRUE(first_sse && first_ws) << a.log() << b.log();
  EXPECT_EQ(title_of(first_sse->data), "one");
  EXPECT_EQ(title_of(*first_ws), "one");
  const std::string channel_key = "pushgw:web:{user:7}";
  SyncRedis owner(cluster.node(cluster.owner_of(cluster.slot_of(channel_key))));
  EXPECT_EQ(owner.command({"PUBSUB", "SHARDNUMSUB", channel_key})->element[1]->integer, 2) << "one subscription per instance";

  const std::uint16_t slot = cluster.slot_of(channel_key);
  const std::size_t to = (cluster.owner_of(slot) + 1) % cluster.size();
  cluster.begin_migration(slot, to);
  cluster.finish_migration(slot);
  SyncRedis new_owner(cluster.node(to));
  ASSERT_TRUE(eventually([&] {
    return new_owner.command({"PUBSUB", "SHARDNUMSUB", channel_key})->element[1]->integer == 2;
  }, 30s)) << a.log() << b.log();
  push(b, "user:7", "two");
  auto second_sse = sse_b.next();
  auto second_ws = ws_a.next();
  ASSERT_TRUE(second_sse && second_ws) << a.log() << b.log();
  EXPECT_EQ(title_of(second_sse->data), "two");
  EXPECT_EQ(title_of(*second_ws), "two");
  EXPECT_FALSE(sse_b.next(300ms));
  EXPECT_FALSE(ws_a.next(300ms));
  EXPECT_NE(a.log().find("moved to another Redis Cluster master"), std::string::npos) << a.log();
}

TEST_F(WebTest, AClientReadsOnlyTheChannelsOfItsToken) {
  Daemon a(options("a"));
  const std::string user1 = token_for({"user:1"});
  SseClient asks_for_other(a.port(), "/events?channels=user:2&token=" + user1);
  EXPECT_EQ(asks_for_other.status(), 403) << asks_for_other.body();
  EXPECT_NE(asks_for_other.body().find("user:2"), std::string::npos) << asks_for_other.body();
  WsClient ws_other(a.port(), "/ws?channels=user:1,user:2&token=" + user1);
  EXPECT_FALSE(ws_other.open());
  EXPECT_EQ(ws_other.status(), 403);

  SseClient mine(a.port(), "/events?token=" + user1);
  ASSERT_EQ(mine.status(), 200);
  push(a, "user:2", "not yours");
  push(a, "user:1", "yours");
  const auto event = mine.next();
  ASSERT_TRUE(event) << a.log();
  EXPECT_EQ(title_of(event->data), "yours");
  EXPECT_FALSE(mine.next(300ms));
}

TEST_F(WebTest, ExpiredForgedAndMissingTokensAreRefused) {
  Daemon a(options("a"));
  const std::string expired = token_for({"user:1"}, -10);
  const std::string forged = mint({{"channels", {"user:1"}}, {"exp", unix_now() + 600}}, "another-secret-another-secret-xx");
  for (const std::string& target : {"/events?token=" + expired, "/events?token=" + forged, std::string("/events")}) {
    SseClient sse(a.port(), target);
    EXPECT_EQ(sse.status(), 401) << target << " " << sse.body();
    EXPECT_EQ(sse.headers().count("www-authenticate"), 1u);
  }
  WsClient ws_expired(a.port(), "/ws?token=" + expired);
  EXPECT_FALSE(ws_expired.open());
  EXPECT_EQ(ws_expired.status(), 401);
  WsClient ws_forged(a.port(), "/ws?token=" + forged);
  EXPECT_EQ(ws_forged.status(), 401);
}

TEST_F(WebTest, BadChannelNamesAndIdsGet400) {
  Daemon a(options("a"));
  const std::string token = token_for({"user:1"});
  SseClient bad_channel(a.port(), "/events?channels=user%201&token=" + token);
  EXPECT_EQ(bad_channel.status(), 400) << bad_channel.body();
  SseClient bad_id(a.port(), "/events?token=" + token, {{"Last-Event-ID", "yesterday"}});
  EXPECT_EQ(bad_id.status(), 400) << bad_id.body();
  WsClient ws_bad_id(a.port(), "/ws?last_id=12-x&token=" + token);
  EXPECT_EQ(ws_bad_id.status(), 400);
}

// Titles in the order received, with the ids checked not to decrease (replay and live alike
// are in message-id order; two channels may have equal ids); sorted, since two workers may
// publish two POSTs in either order.
std::vector<std::string> sorted_titles(std::vector<std::pair<std::string, std::string>> received) {
  std::vector<std::string> titles;
  for (std::size_t i = 0; i < received.size(); ++i) {
    if (i > 0) {
      const auto id = [](const std::string& s) {
        const auto dash = s.find('-');
        return std::pair(std::stoull(s.substr(0, dash)), std::stoull(s.substr(dash + 1)));
      };
      EXPECT_LE(id(received[i - 1].first), id(received[i].first)) << received[i].second;
    }
    titles.push_back(received[i].second);
  }
  std::sort(titles.begin(), titles.end());
  return titles;
}

TEST_F(WebTest, AClientThatReconnectsWithItsLastIdGetsExactlyWhatItMissed) {
  Daemon a(options("a"));
  Daemon b(options("b"));
  const std::string token = token_for({"user:1", "room:ops"});
  std::string last_id;
  {
    SseClient sse(a.port(), "/events?token=" + token);
    ASSERT_EQ(sse.status(), 200);
    push(a, "user:1", "m1");
    const auto first = sse.next();
    ASSERT_TRUE(first) << a.log();
    last_id = first->id;
  }
  // Missed while away, on both channels.
  push(a, "user:1", "m2");
  push(a, "room:ops", "m3");
  push(a, "user:1", "m4");
  SyncRedis redis(redis_);
  ASSERT_TRUE(eventually([&] {
    return redis.command({"XLEN", "pushgw:web:{user:1}"})->integer == 3 &&
           redis.command({"XLEN", "pushgw:web:{room:ops}"})->integer == 1;
  }, 30s));

  SseClient sse(b.port(), "/events?token=" + token, {{"Last-Event-ID", last_id}});
  ASSERT_EQ(sse.status(), 200) << sse.body();
  std::vector<std::pair<std::string, std::string>> received;
  while (auto event = sse.next(1500ms)) received.emplace_back(event->id, title_of(event->data));
  EXPECT_EQ(sorted_titles(received), (std::vector<std::string>{"m2", "m3", "m4"}));

  WsClient ws(a.port(), "/ws?last_id=" + last_id + "&token=" + token);
  ASSERT_TRUE(ws.open());
  received.clear();
  while (auto message = ws.next(1500ms)) {
    const json j = json::parse(*message);
    received.emplace_back(j.at("id").get<std::string>(), title_of(*message));
  }
  EXPECT_EQ(sorted_titles(received), (std::vector<std::string>{"m2", "m3", "m4"}));

  // Then live, without repeats at the seam.
  WsClient again(a.port(), "/ws?last_id=" + last_id + "&token=" + token);
  ASSERT_TRUE(again.open());
  push(b, "room:ops", "m5");
  received.clear();
  while (auto message = again.next(1500ms)) {
    const json j = json::parse(*message);
    received.emplace_back(j.at("id").get<std::string>(), title_of(*message));
  }
  EXPECT_EQ(sorted_titles(received), (std::vector<std::string>{"m2", "m3", "m4", "m5"}));
}

// Ids are per channel; a resume id names no channel. Histories written by hand with the ids
// that make the cases.
TEST_F(WebTest, OneResumeIdForSeveralChannelsLosesNoMessageWithAnEqualId) {
  Daemon a(options("a"));
  SyncRedis redis(redis_);
  auto add = [&](const std::string& channel, const std::string& id, const std::string& title) {
    redis.command({"XADD", "pushgw:web:{" + channel + "}", id, "n", json{{"title", title}}.dump()});
  };
  add("a", "5-0", "a5");
  add("a", "6-0", "a6");
  add("b", "5-0", "b5");  // the same id as a5: the client may have seen either
  add("b", "7-0", "b7");
  add("c", "4-0", "c4");
  add("c", "8-0", "c8");
  auto replayed = [&](const std::string& channels, const std::string& last) {
    SseClient sse(a.port(), "/events?channels=" + channels + "&token=" + token_for({"a", "b", "c"}),
                  {{"Last-Event-ID", last}});
    EXPECT_EQ(sse.status(), 200) << sse.body();
    std::vector<std::string> titles;
    while (auto event = sse.next(1000ms)) titles.push_back(title_of(event->data));
    return titles;
  };
  // Only a holds 6-0: the client has it.
  EXPECT_EQ(replayed("a,b,c", "6-0"), (std::vector<std::string>{"b7", "c8"}));
  // a and b both hold 5-0: both are sent again rather than risk losing one.
  EXPECT_EQ(replayed("a,b,c", "5-0"), (std::vector<std::string>{"a5", "b5", "a6", "b7", "c8"}));
  // Only c holds 4-0.
  EXPECT_EQ(replayed("a,c", "4-0"), (std::vector<std::string>{"a5", "a6", "c8"}));
}

TEST_F(WebTest, AnIdOlderThanTheHistoryIsRefused) {
  Daemon a(options("a", "  history: 3\n"));
  const std::string token = token_for({"user:1"});
  std::string first_id;
  {
    SseClient sse(a.port(), "/events?token=" + token);
    ASSERT_EQ(sse.status(), 200);
    push(a, "user:1", "m0");
    const auto event = sse.next();
    ASSERT_TRUE(event);
    first_id = event->id;
    for (int i = 1; i <= 5; ++i) push(a, "user:1", "m" + std::to_string(i));
    for (int i = 1; i <= 5; ++i) ASSERT_TRUE(sse.next()) << i;
  }
  SseClient late(a.port(), "/events?last_event_id=" + first_id + "&token=" + token);
  EXPECT_EQ(late.status(), 400) << late.body();
  EXPECT_NE(late.body().find("history"), std::string::npos) << late.body();
}

TEST_F(WebTest, ASlowClientIsDroppedWithoutGrowingTheDaemonsMemory) {
  Daemon a(options("a", "  send_buffer: 16KiB\n"));
  const std::string token = token_for({"user:1"});
  SseClient slow(a.port(), "/events?token=" + token);
  ASSERT_EQ(slow.status(), 200);
  slow.stall();
  WsClient fast(a.port(), "/ws?token=" + token);
  ASSERT_TRUE(fast.open());

  auto rss = [&] {
    const std::string text = get(a.port(), "/metrics").body;
    const auto at = text.find("\nprocess_resident_memory_bytes ");
    return at == std::string::npos ? 0.0 : std::stod(text.substr(at + 31));
  };
  const double before = rss();
  // 16 MiB for the slow client, 8 KiB a message.
  const std::string big(8 * 1024, 'x');
  for (int i = 0; i < 2048; ++i) {
    json body = {{"notifications", {{{"platform", "web"}, {"tokens", {"user:1"}}, {"title", "big"}, {"message", big}}}}};
    const HttpResponse r = post_json(a.port(), "/push", body.dump());
    ASSERT_EQ(r.status, 202) << r.body;
    ASSERT_TRUE(fast.next()) << i << ": closed " << fast.close_code() << " " << fast.close_reason();  // a client that reads keeps up
  }
  ASSERT_TRUE(eventually([&] {
    return get(a.port(), "/metrics").body.find("pushgw_web_dropped_total{reason=\"slow\"} 1") != std::string::npos;
  }, 60s)) << a.log();
  // Closed on the daemon's side (what the kernel still buffers trickles to the stalled reader).
  EXPECT_NE(get(a.port(), "/metrics").body.find("pushgw_web_connections{transport=\"sse\"} 0"), std::string::npos);
  // The daemon held at most send_buffer for it: far less than the 16 MiB sent. (Not under
  // AddressSanitizer, whose quarantine keeps freed memory resident by design.)
#if !defined(__SANITIZE_ADDRESS__)
  EXPECT_LT(rss() - before, 8.0 * 1024 * 1024) << "rss before " << before << " after " << rss();
#else
  (void)before;
#endif
}

TEST_F(WebTest, OriginsOutsideTheAllowedListAreRefused) {
  Daemon a(options("a", "  allowed_origins: [\"https://app.example.com\"]\n"));
  const std::string token = token_for({"user:1"});
  SseClient allowed(a.port(), "/events?token=" + token, {{"Origin", "https://app.example.com"}});
  EXPECT_EQ(allowed.status(), 200);
  EXPECT_EQ(allowed.headers().at("access-control-allow-origin"), "https://app.example.com");
  SseClient other(a.port(), "/events?token=" + token, {{"Origin", "https://evil.example.com"}});
  EXPECT_EQ(other.status(), 403);
  WsClient ws_other(a.port(), "/ws?token=" + token, {{"Origin", "https://evil.example.com"}});
  EXPECT_EQ(ws_other.status(), 403);
  WsClient ws_allowed(a.port(), "/ws?token=" + token, {{"Origin", "https://app.example.com"}});
  EXPECT_TRUE(ws_allowed.open());
}

TEST_F(WebTest, OverMaxConnectionsGets503) {
  Daemon a(options("a", "  max_connections: 2\n"));
  const std::string token = token_for({"user:1"});
  SseClient one(a.port(), "/events?token=" + token);
  WsClient two(a.port(), "/ws?token=" + token);
  ASSERT_EQ(one.status(), 200);
  ASSERT_TRUE(two.open());
  SseClient three(a.port(), "/events?token=" + token);
  EXPECT_EQ(three.status(), 503);
}

TEST_F(WebTest, ATokenThatExpiresClosesTheWebSocketWith4401) {
  Daemon a(options("a"));
  WsClient ws(a.port(), "/ws?token=" + token_for({"user:1"}, 2));
  ASSERT_TRUE(ws.open());
  EXPECT_FALSE(ws.next(10s));
  EXPECT_EQ(ws.close_code(), 4401) << ws.close_reason();
}

TEST_F(WebTest, SigtermClosesLiveClientsWithGoingAway) {
  Daemon a(options("a"));
  const std::string token = token_for({"user:1"});
  WsClient ws(a.port(), "/ws?token=" + token);
  SseClient sse(a.port(), "/events?token=" + token);
  ASSERT_TRUE(ws.open());
  ASSERT_EQ(sse.status(), 200);
  ::kill(a.process().pid(), SIGTERM);
  EXPECT_FALSE(ws.next(10s));
  EXPECT_EQ(ws.close_code(), 1001) << ws.close_reason();
  EXPECT_TRUE(sse.closed_by_server(10s));
}

TEST_F(WebTest, IdleConnectionsGetHeartbeats) {
  Daemon a(options("a"));
  SseClient sse(a.port(), "/events?token=" + token_for({"user:1"}));
  ASSERT_EQ(sse.status(), 200);
  EXPECT_FALSE(sse.next(2500ms));
  EXPECT_GE(sse.comments(), 2);  // ping_interval is 1s here
}

}  // namespace
}  // namespace pushgw::test
