// The hub and the web provider against a real redis-server: what the provider publishes
// reaches the sessions of every hub subscribed to the channel, once, including what was
// published while a hub's subscriber connection was down.

#include "pushgw/web/hub.hpp"

#include <gtest/gtest.h>

#include <boost/asio.hpp>

#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "pushgw/job/notification.hpp"
#include "pushgw/web/provider.hpp"
#include "support/asio_wait.hpp"
#include "support/redis_server.hpp"

#include "pushgw/common/coroutine_warnings.hpp"

namespace pushgw::web {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;


redis::ClientConfig config_for(const test::RedisServer& server, std::string name) {
  redis::ClientConfig config;
  config.endpoint.host = server.host();
  config.endpoint.port = server.port();
  config.reconnect_min = 20ms;
  config.reconnect_max = 200ms;
  config.name = std::move(name);
  return config;
}

// A session that records what it is given: (channel, title).
struct RecordingSession : Session {
  std::vector<std::pair<std::string, std::string>> got;
  void deliver(const Message& m) override {
    const auto j = nlohmann::json::parse(*m.json);
    got.emplace_back(m.channel, j.at("notification").value("title", ""));
  }
};

class HubTest : public ::testing::Test {
 protected:
  HubTest()
      : reader_(io_.get_executor(), config_for(redis_, "reader")),
        hub_(io_.get_executor(), slow_to_reconnect(config_for(redis_, "subscriber")), reader_, queue::Keys("pushgw")),
        provider_(io_.get_executor(), "demo", web_config(), config_for(redis_, "publisher"), "pushgw") {
    reader_.start();
    hub_.start();
    std::string error;
    provider_.start(&error);
  }
  ~HubTest() override {
    hub_.stop();
    reader_.stop();
  }

  // Long enough for the test to publish while the subscriber is away.
  static redis::ClientConfig slow_to_reconnect(redis::ClientConfig config) {
    config.reconnect_min = 500ms;
    config.reconnect_max = 500ms;
    return config;
  }

  static config::WebConfig web_config() {
    config::WebConfig web;
    web.enabled = true;
    web.history = 10;
    return web;
  }

  asio::awaitable<bool> connected() {
    co_return co_await test::eventually_async(
        [&] { return hub_.connected() && reader_.connected() && provider_.health().ok; });
  }

  // Publishes through the provider, as the dispatcher does; the outcome.
  asio::awaitable<job::SendOutcome> publish(const std::string& channel, const std::string& title) {
    job::Notification n;
    n.platform = job::Platform::web;
    n.title = title;
    auto prepared = provider_.prepare(n);
    co_return co_await provider_.async_send(common::Permit{}, prepared, channel, asio::use_awaitable);
  }

  test::RedisServer redis_;
  asio::io_context io_;
  redis::Client reader_;
  Hub hub_;
  Provider provider_;
  SessionGroup group_{io_.get_executor()};  // the sessions on the hub's own thread (web.threads 0)
};

TEST_F(HubTest, PublishedMessagesReachTheSessionsOfTheirChannelOnce) {
  RecordingSession one, two, other;
  test::run_until_done(io_, [&]() -> asio::awaitable<void> {
    EXPECT_TRUE(co_await connected());
    const std::vector<std::string> user1{"user:1"}, both{"user:1", "room"}, user2{"user:2"};
    EXPECT_FALSE(co_await hub_.join(&one, group_, user1));
    EXPECT_FALSE(co_await hub_.join(&two, group_, both));
    EXPECT_FALSE(co_await hub_.join(&other, group_, user2));
    EXPECT_EQ(hub_.channels(), 3u);

    const job::SendOutcome outcome = co_await publish("user:1", "hello");
    EXPECT_EQ(outcome.kind, job::OutcomeKind::delivered) << outcome.reason;
    EXPECT_FALSE(outcome.provider_id.empty());  // the message id
    co_await publish("room", "all");
    EXPECT_TRUE(co_await test::eventually_async([&] { return two.got.size() == 2; }));
    EXPECT_EQ(one.got, (std::vector<std::pair<std::string, std::string>>{{"user:1", "hello"}}));
    EXPECT_EQ(two.got, (std::vector<std::pair<std::string, std::string>>{{"user:1", "hello"}, {"room", "all"}}));
    EXPECT_TRUE(other.got.empty());

    // The last session of a channel leaves: the hub lets the channel go.
    hub_.leave(&other, group_, user2);
    hub_.leave(&one, group_, user1);
    EXPECT_EQ(hub_.channels(), 2u);
    EXPECT_EQ(group_.sessions_of("user:1"), 1u);
    co_await publish("user:1", "again");
    EXPECT_TRUE(co_await test::eventually_async([&] { return two.got.size() == 3; }));
    EXPECT_EQ(one.got.size(), 1u);
    hub_.leave(&two, group_, both);
    EXPECT_EQ(hub_.channels(), 0u);
    EXPECT_EQ(group_.sessions_of("room"), 0u);
  }());
}

TEST_F(HubTest, MessagesPublishedWhileTheSubscriberWasDownAreDeliveredFromHistoryOnce) {
  RecordingSession session;
  test::SyncRedis redis(redis_);
  test::run_until_done(io_, [&]() -> asio::awaitable<void> {
    EXPECT_TRUE(co_await connected());
    const std::vector<std::string> channels{"user:1"};
    EXPECT_FALSE(co_await hub_.join(&session, group_, channels));
    co_await publish("user:1", "before");
    EXPECT_TRUE(co_await test::eventually_async([&] { return session.got.size() == 1; }));

    // The subscriber connection goes; messages published meanwhile reach nobody live.
    redis.command({"CLIENT", "KILL", "TYPE", "pubsub"});
    EXPECT_TRUE(co_await test::eventually_async([&] { return !hub_.connected(); }, 5s));
    for (const char* title : {"during 1", "during 2"}) co_await publish("user:1", title);

    EXPECT_EQ(session.got.size(), 1u);  // not live: the subscriber is away
    EXPECT_TRUE(co_await test::eventually_async([&] { return session.got.size() >= 3; }));
    co_await publish("user:1", "after");
    EXPECT_TRUE(co_await test::eventually_async([&] { return session.got.size() >= 4; }));
    std::vector<std::string> titles;
    for (const auto& [channel, title] : session.got) titles.push_back(title);
    EXPECT_EQ(titles, (std::vector<std::string>{"before", "during 1", "during 2", "after"}));
    hub_.leave(&session, group_, channels);
  }());
}

TEST_F(HubTest, ReplayReturnsWhatCameAfterAnIdAndTellsATrimmedGap) {
  test::run_until_done(io_, [&]() -> asio::awaitable<void> {
    EXPECT_TRUE(co_await connected());
    std::vector<std::string> ids;
    for (int i = 0; i < 15; ++i) ids.push_back((co_await publish("c", "m" + std::to_string(i))).provider_id);
    const std::vector<std::string> channels{"c"};
    // history is 10: m5..m14 are kept.
    ReplayResult recent = co_await hub_.replay(channels, *parse_stream_id(ids[11]));
    EXPECT_FALSE(recent.ec);
    EXPECT_FALSE(recent.gap);
    CO_ASSERT(recent.messages.size() == 3u);
    EXPECT_EQ(recent.messages[0].id.to_string(), ids[12]);
    ReplayResult edge = co_await hub_.replay(channels, *parse_stream_id(ids[4]));  // the newest one removed
    EXPECT_FALSE(edge.gap);
    EXPECT_EQ(edge.messages.size(), 10u);
    ReplayResult old = co_await hub_.replay(channels, *parse_stream_id(ids[3]));  // m4 was removed: missed
    EXPECT_TRUE(old.gap);
    const std::vector<std::string> none{"never-used"};
    ReplayResult empty = co_await hub_.replay(none, *parse_stream_id(ids[3]));
    EXPECT_FALSE(empty.gap);
    EXPECT_TRUE(empty.messages.empty());
  }());
}

// A session on another thread: what it is given, and on which thread, under a lock (the test
// reads it from the hub's thread).
struct ThreadSession : Session {
  mutable std::mutex mutex;
  std::vector<std::string> titles;
  std::set<std::thread::id> threads;
  void deliver(const Message& m) override {
    const auto j = nlohmann::json::parse(*m.json);
    std::lock_guard lock(mutex);
    titles.push_back(j.at("notification").value("title", ""));
    threads.insert(std::this_thread::get_id());
  }
  std::size_t count() const {
    std::lock_guard lock(mutex);
    return titles.size();
  }
};

// web.threads: each group runs on its own thread; the hub hands each message once to each
// group with sessions of its channel, in the order published, and the group's sessions get it
// on that group's thread.
TEST_F(HubTest, GroupsOnTheirOwnThreadsEachGetEveryMessageInOrderOnTheirThread) {
  asio::io_context a_io(1), b_io(1);
  auto a_guard = asio::make_work_guard(a_io);
  auto b_guard = asio::make_work_guard(b_io);
  std::thread::id a_thread, b_thread;
  std::thread a([&] { a_thread = std::this_thread::get_id(); a_io.run(); });
  std::thread b([&] { b_thread = std::this_thread::get_id(); b_io.run(); });
  SessionGroup group_a(a_io.get_executor()), group_b(b_io.get_executor());
  ThreadSession on_a1, on_a2, on_b, elsewhere;
  std::vector<std::string> published;
  const std::vector<std::string> fan{"fan"}, other{"other"};
  test::run_until_done(io_, [&]() -> asio::awaitable<void> {
    EXPECT_TRUE(co_await connected());
    EXPECT_FALSE(co_await hub_.join(&on_a1, group_a, fan));
    EXPECT_FALSE(co_await hub_.join(&on_a2, group_a, fan));
    EXPECT_FALSE(co_await hub_.join(&on_b, group_b, fan));
    EXPECT_FALSE(co_await hub_.join(&elsewhere, group_b, other));
    for (int i = 0; i < 50; ++i) {
      published.push_back("m" + std::to_string(i));
      co_await publish("fan", published.back());
    }
    EXPECT_TRUE(co_await test::eventually_async(
        [&] { return on_a1.count() == 50 && on_a2.count() == 50 && on_b.count() == 50; }));
    // On its group's thread, as a session leaves; queued there before the next message.
    asio::post(a_io, [&] { hub_.leave(&on_a1, group_a, fan); });
    co_await publish("fan", "after a1 left");
    EXPECT_TRUE(co_await test::eventually_async([&] { return on_a2.count() == 51 && on_b.count() == 51; }));
  }());
  a_guard.reset();
  b_guard.reset();
  a.join();
  b.join();
  published.push_back("after a1 left");
  const std::vector<std::string> first50(published.begin(), published.end() - 1);
  EXPECT_EQ(on_a1.titles, first50);
  EXPECT_EQ(on_a2.titles, published);
  EXPECT_EQ(on_b.titles, published);
  EXPECT_TRUE(elsewhere.titles.empty());
  EXPECT_EQ(on_a2.threads, (std::set<std::thread::id>{a_thread}));
  EXPECT_EQ(on_b.threads, (std::set<std::thread::id>{b_thread}));
  EXPECT_EQ(group_a.sessions_of("fan"), 1u);
  EXPECT_EQ(group_b.sessions_of("fan"), 1u);
}

}  // namespace
}  // namespace pushgw::web
