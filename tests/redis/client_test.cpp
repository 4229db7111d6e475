// The Redis client against a real redis-server on a free loopback port.

#include "pushgw/redis/client.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>

#include "support/asio_wait.hpp"
#include "support/eventually.hpp"
#include "support/redis_sentinel.hpp"
#include "support/redis_replies.hpp"
#include "support/redis_server.hpp"
#include "support/test_ca.hpp"
#include "pushgw/redis/tls.hpp"

namespace pushgw::redis {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using namespace std::string_literals;
using boost::system::error_code;
using test::RedisServer;
using test::RedisServerOptions;
using test::SyncRedis;
using ::testing::HasSubstr;

ClientConfig config_for(const RedisServer& server) {
  ClientConfig config;
  config.endpoint.host = server.host();
  config.endpoint.port = server.port();
  config.endpoint.password = server.password();
  config.connect_timeout = 2s;
  config.command_timeout = 10s;
  config.reconnect_min = 20ms;   // keeps reconnect tests short
  config.reconnect_max = 200ms;
  config.name = "pushgw-test";
  return config;
}

// A one-command request. Variadic rather than an initializer_list: GCC 12 cannot keep an
// initializer_list's temporary array alive across a co_await in the same expression.
template <class... Args>
Request command(std::string_view name, const Args&... args) {
  Request request;
  request.push(name, args...);
  return request;
}

using test::bulk;
using test::integer;
using test::status;

// Number of clients blocked in BLPOP and friends, as the server counts them.
long long blocked_clients(SyncRedis& redis) {
  test::ReplyPtr info = redis.command({"INFO", "clients"});
  const std::string text(info->str, info->len);
  const std::string field = "blocked_clients:";
  const auto at = text.find(field);
  return at == std::string::npos ? -1 : std::stoll(text.substr(at + field.size()));
}

// The CLIENT ID of the connection named `name`, or -1.
long long client_id_named(SyncRedis& redis, const std::string& name) {
  test::ReplyPtr list = redis.command({"CLIENT", "LIST"});
  const std::string text(list->str, list->len);
  const auto at = text.find(" name=" + name + " ");
  if (at == std::string::npos) {
    return -1;
  }
  const auto line_start = text.rfind('\n', at);
  const auto id_at = text.find("id=", line_start == std::string::npos ? 0 : line_start);
  return std::stoll(text.substr(id_at + 3));
}

TEST(ErrorCategory, NamesAndDescribesEveryError) {
  EXPECT_STREQ(error_category().name(), "pushgw.redis");
  const error_code ec = error::timeout;
  EXPECT_EQ(&ec.category(), &error_category());
  std::vector<std::string> messages;
  for (error e : {error::not_connected, error::timeout, error::connection_lost, error::protocol,
                  error::auth_failed, error::tls_failed, error::sentinel_failed, error::cluster_failed,
                  error::not_master, error::stopped, error::unexpected_reply}) {
    const std::string message = make_error_code(e).message();
    EXPECT_FALSE(message.empty());
    EXPECT_EQ(std::count(messages.begin(), messages.end(), message), 0) << message;
    messages.push_back(message);
  }
}

TEST(ReconnectDelay, DoublesFromMinimumUpToMaximumWithJitter) {
  ClientConfig config;
  config.reconnect_min = 100ms;
  config.reconnect_max = 5000ms;
  EXPECT_EQ(reconnect_delay(config, 0, 1.0), 100ms);
  EXPECT_EQ(reconnect_delay(config, 1, 1.0), 200ms);
  EXPECT_EQ(reconnect_delay(config, 3, 1.0), 800ms);
  EXPECT_EQ(reconnect_delay(config, 6, 1.0), 5000ms);
  EXPECT_EQ(reconnect_delay(config, 1000, 1.0), 5000ms);
  // Jitter scales the delay down to half, never more.
  EXPECT_EQ(reconnect_delay(config, 0, 0.0), 50ms);
  EXPECT_EQ(reconnect_delay(config, 1000, 0.0), 2500ms);
  EXPECT_EQ(reconnect_delay(config, 2, 0.5), 300ms);
  EXPECT_EQ(reconnect_delay(config, 2, 7.0), 400ms);  // out-of-range jitter is clamped
}

TEST(ReconnectDelay, ZeroMinimumStillWaits) {
  ClientConfig config;
  config.reconnect_min = 0ms;
  config.reconnect_max = 0ms;
  EXPECT_GT(reconnect_delay(config, 0, 1.0), 0ms);
}

RedisServerOptions with_password(std::string password) {
  RedisServerOptions options;
  options.password = std::move(password);
  return options;
}

class ClientTest : public ::testing::Test {
 protected:
  asio::io_context io;
};

TEST_F(ClientTest, RunsSimpleCommands) {
  RedisServer server;
  Client client(io.get_executor(), config_for(server));
  client.start();
  test::run_until_done(io, [&]() -> asio::awaitable<void> {
    EXPECT_TRUE(co_await test::eventually_async([&] { return client.connected(); }));

    Result set = co_await client.exec(command("SET", "greeting", "hello"));
    EXPECT_FALSE(set.ec) << set.ec.message();
    EXPECT_EQ(set.replies, std::vector<Reply>{status("OK")});

    Result get = co_await client.exec(command("GET", "greeting"));
    EXPECT_EQ(get.replies, std::vector<Reply>{bulk("hello")});

    Result missing = co_await client.exec(command("GET", "no-such-key"));
    CO_ASSERT(missing.replies.size() == 1U);
    EXPECT_TRUE(missing.replies[0].is_nil());

    Result incr = co_await client.exec(command("INCRBY", "counter", "41"));
    EXPECT_EQ(incr.replies, std::vector<Reply>{integer(41)});

    const std::string binary = "\0\r\n\xff payload"s;
    Request push;
    push.push("RPUSH", "list", binary, "second");
    co_await client.exec(std::move(push));
    Result range = co_await client.exec(command("LRANGE", "list", "0", "-1"));
    CO_ASSERT(range.replies.size() == 1U);
    EXPECT_EQ(range.replies[0].type, Reply::Type::array);
    EXPECT_EQ(range.replies[0].elements, (std::vector<Reply>{bulk(binary), bulk("second")}));

    Result name = co_await client.exec(command("CLIENT", "GETNAME"));
    EXPECT_EQ(name.replies, std::vector<Reply>{bulk("pushgw-test")});
  }());
  SyncRedis redis(server);
  EXPECT_EQ(redis.lrange("list"), (std::vector<std::string>{"\0\r\n\xff payload"s, "second"}));
}

TEST_F(ClientTest, PipelineAnswersEveryCommandInOrder) {
  RedisServer server;
  Client client(io.get_executor(), config_for(server));
  client.start();
  test::run_until_done(io, [&]() -> asio::awaitable<void> {
    EXPECT_TRUE(co_await test::eventually_async([&] { return client.connected(); }));
    Request pipeline;
    pipeline.push("DEL", "p");
    pipeline.push("RPUSH", "p", "a", "b", "c");
    pipeline.push("LLEN", "p");
    pipeline.push("LPOP", "p");
    pipeline.push("ZADD", "z", "5", "member");
    pipeline.push("ZCARD", "z");
    Result result = co_await client.exec(std::move(pipeline));
    EXPECT_FALSE(result.ec) << result.ec.message();
    EXPECT_EQ(result.replies, (std::vector<Reply>{integer(0), integer(3), integer(3), bulk("a"),
                                                  integer(1), integer(1)}));
  }());
}

TEST_F(ClientTest, ErrorReplyIsAReplyNotAFailedRequest) {
  RedisServer server;
  Client client(io.get_executor(), config_for(server));
  client.start();
  test::run_until_done(io, [&]() -> asio::awaitable<void> {
    EXPECT_TRUE(co_await test::eventually_async([&] { return client.connected(); }));
    Request request;
    request.push("SET", "text", "not a number");
    request.push("INCR", "text");
    request.push("NOSUCHCOMMAND", "x");
    request.push("GET", "text");
    Result result = co_await client.exec(std::move(request));
    EXPECT_FALSE(result.ec) << result.ec.message();
    CO_ASSERT(result.replies.size() == 4U);
    EXPECT_EQ(result.replies[0], status("OK"));
    EXPECT_TRUE(result.replies[1].is_error());
    EXPECT_NE(result.replies[1].str.find("not an integer"), std::string::npos)
        << result.replies[1].str;
    EXPECT_TRUE(result.replies[2].is_error());
    EXPECT_EQ(result.replies[3], bulk("not a number"));
    EXPECT_TRUE(client.connected());  // an error reply is no reason to reconnect
  }());
}

TEST_F(ClientTest, ThousandConcurrentCallersEachGetTheirOwnReplies) {
  RedisServer server;
  Client client(io.get_executor(), config_for(server));
  client.start();
  constexpr int callers = 1000;
  int finished = 0;
  int wrong = 0;
  test::run_until_done(io, [&]() -> asio::awaitable<void> {
    EXPECT_TRUE(co_await test::eventually_async([&] { return client.connected(); }));
    auto executor = co_await asio::this_coro::executor;
    for (int i = 0; i < callers; ++i) {
      asio::co_spawn(
          executor,
          [&, i]() -> asio::awaitable<void> {
            const std::string key = "key:" + std::to_string(i);
            const std::string value = "value-" + std::to_string(i) + "\0\r\n"s;
            Request request;
            request.push("SET", key, value);
            request.push("GET", key);
            request.push("INCRBY", "total", std::to_string(i));
            request.push("STRLEN", key);
            Result result = co_await client.exec(std::move(request));
            const bool right = !result.ec && result.replies.size() == 4 &&
                               result.replies[0] == status("OK") &&
                               result.replies[1] == bulk(value) &&
                               result.replies[2].type == Reply::Type::integer &&
                               result.replies[3] == integer(static_cast<std::int64_t>(value.size()));
            if (!right) {
              ++wrong;
            }
            ++finished;
          },
          asio::detached);
    }
    EXPECT_TRUE(co_await test::eventually_async([&] { return finished == callers; }, 60s));
  }());
  EXPECT_EQ(finished, callers);
  EXPECT_EQ(wrong, 0);
  SyncRedis redis(server);
  EXPECT_EQ(redis.get("total"), std::to_string(callers * (callers - 1) / 2));
  EXPECT_EQ(redis.get("key:777"), "value-777\0\r\n"s);
}

TEST_F(ClientTest, CallersOnOtherThreadsAreServedThroughTheClientsStrand) {
  RedisServer server;
  auto strand = asio::make_strand(io);
  Client client(strand, config_for(server));
  client.start();
  constexpr int callers = 200;
  std::atomic<int> finished{0};
  std::atomic<int> wrong{0};
  for (int i = 0; i < callers; ++i) {
    // Plain io_context executor: these coroutines run on whichever thread, not the strand.
    asio::co_spawn(
        io,
        [&, i]() -> asio::awaitable<void> {
          asio::steady_timer timer(co_await asio::this_coro::executor);
          while (!client.connected()) {
            timer.expires_after(10ms);
            co_await timer.async_wait(asio::use_awaitable);
          }
          const std::string value = std::to_string(i * 7);
          Request request;
          request.push("SET", "t" + std::to_string(i), value);
          request.push("GET", "t" + std::to_string(i));
          Result result = co_await client.exec(std::move(request));
          if (result.ec || result.replies.size() != 2 || result.replies[1] != bulk(value)) {
            ++wrong;
          }
          if (++finished == callers) {
            client.stop();
          }
        },
        asio::detached);
  }
  std::vector<std::thread> threads;
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([&] { io.run_for(60s); });
  }
  for (std::thread& thread : threads) {
    thread.join();
  }
  EXPECT_EQ(finished, callers);
  EXPECT_EQ(wrong, 0);
}

TEST_F(ClientTest, ASubscriberGetsPushedMessagesAndAFreshConnectionCallsOnConnected) {
  RedisServer server;
  ClientConfig config = config_for(server);
  std::vector<std::pair<std::string, std::string>> pushed;  // (channel, payload)
  int connections = 0;
  config.on_push = [&](const Reply& reply) { pushed.emplace_back(reply.elements[1].str, reply.elements[2].str); };
  config.on_connected = [&] { ++connections; };
  Client subscriber(io.get_executor(), config);
  subscriber.start();
  SyncRedis redis(server);
  test::run_until_done(io, [&]() -> asio::awaitable<void> {
    EXPECT_TRUE(co_await test::eventually_async([&] { return subscriber.connected(); }));
    EXPECT_EQ(connections, 1);
    Request subscribe;
    subscribe.push("SUBSCRIBE", "news");
    subscribe.push("SUBSCRIBE", "sport");
    Result subscribed = co_await subscriber.exec(std::move(subscribe));
    CO_ASSERT(!subscribed.ec && subscribed.replies.size() == 2U);
    EXPECT_EQ(subscribed.replies[1].elements[0], bulk("subscribe"));

    redis.command({"PUBLISH", "news", "one"});
    redis.command({"PUBLISH", "sport", "two"});
    redis.command({"PUBLISH", "weather", "not subscribed"});
    redis.command({"PUBLISH", "news", "three"});
    EXPECT_TRUE(co_await test::eventually_async([&] { return pushed.size() >= 3; }));
    EXPECT_EQ(pushed, (std::vector<std::pair<std::string, std::string>>{{"news", "one"}, {"sport", "two"}, {"news", "three"}}));

    // An UNSUBSCRIBE's reply completes its exec() between pushes.
    Result unsubscribed = co_await subscriber.exec(command("UNSUBSCRIBE", "sport"));
    CO_ASSERT(!unsubscribed.ec && unsubscribed.replies.size() == 1U);
    EXPECT_EQ(unsubscribed.replies[0].elements[0], bulk("unsubscribe"));

    // A new connection has no subscriptions: on_connected says so.
    redis.command({"CLIENT", "KILL", "TYPE", "pubsub"});
    EXPECT_TRUE(co_await test::eventually_async([&] { return connections == 2 && subscriber.connected(); }));
  }());
}

TEST_F(ClientTest, FailsFastWhileRedisIsDownAndReconnectsByItself) {
  RedisServer server;
  ClientConfig config = config_for(server);
  config.command_timeout = 0ms;  // a request queued while down would hang, not time out
  Client client(io.get_executor(), config);
  client.start();
  test::run_until_done(io, [&]() -> asio::awaitable<void> {
    EXPECT_TRUE(co_await test::eventually_async([&] { return client.connected(); }));
    co_await client.exec(command("SET", "survives", "no"));

    server.stop();
    EXPECT_TRUE(co_await test::eventually_async([&] { return !client.connected(); }));
    for (int i = 0; i < 3; ++i) {
      Result result = co_await client.exec(command("PING"));
      EXPECT_EQ(result.ec, error::not_connected) << result.ec.message();
      EXPECT_TRUE(result.replies.empty());
    }
    EXPECT_TRUE(client.last_error()) << "the reason of the outage should be kept";

    server.start();  // same port; the same Client finds it again
    EXPECT_TRUE(co_await test::eventually_async([&] { return client.connected(); }));
    EXPECT_FALSE(client.last_error()) << client.last_error().message();
    Result pong = co_await client.exec(command("PING"));
    EXPECT_FALSE(pong.ec) << pong.ec.message();
    EXPECT_EQ(pong.replies, std::vector<Reply>{status("PONG")});
  }());
}

TEST_F(ClientTest, NotConnectedBeforeRedisEverAnswered) {
  RedisServer server;
  server.stop();
  Client client(io.get_executor(), config_for(server));
  client.start();
  test::run_until_done(io, [&]() -> asio::awaitable<void> {
    EXPECT_TRUE(co_await test::eventually_async([&] { return bool(client.last_error()); }));
    EXPECT_EQ(client.last_error(), asio::error::connection_refused)
        << client.last_error().message();
    Result result = co_await client.exec(command("PING"));
    EXPECT_EQ(result.ec, error::not_connected);
    server.start();
    EXPECT_TRUE(co_await test::eventually_async([&] { return client.connected(); }));
  }());
}

TEST_F(ClientTest, AuthenticatesWithPassword) {
  RedisServer server(with_password("s3cret"));
  Client password_only(io.get_executor(), config_for(server));
  ClientConfig with_user = config_for(server);
  with_user.endpoint.username = "default";
  Client user_and_password(io.get_executor(), with_user);
  password_only.start();
  user_and_password.start();
  test::run_until_done(io, [&]() -> asio::awaitable<void> {
    const std::array<Client*, 2> clients{&password_only, &user_and_password};
    for (Client* client : clients) {
      EXPECT_TRUE(co_await test::eventually_async([&] { return client->connected(); }));
      Result result = co_await client->exec(command("SET", "authed", "yes"));
      EXPECT_EQ(result.replies, std::vector<Reply>{status("OK")});
    }
  }());
}

TEST_F(ClientTest, WrongOrMissingPasswordIsAuthFailed) {
  RedisServer server(with_password("s3cret"));
  ClientConfig wrong = config_for(server);
  wrong.endpoint.password = "guess";
  ClientConfig missing = config_for(server);
  missing.endpoint.password.clear();
  Client wrong_client(io.get_executor(), wrong);
  Client missing_client(io.get_executor(), missing);
  wrong_client.start();
  missing_client.start();
  test::run_until_done(io, [&]() -> asio::awaitable<void> {
    const std::array<Client*, 2> clients{&wrong_client, &missing_client};
    for (Client* client : clients) {
      EXPECT_TRUE(co_await test::eventually_async([&] { return bool(client->last_error()); }));
      EXPECT_EQ(client->last_error(), error::auth_failed) << client->last_error().message();
      EXPECT_FALSE(client->connected());
      Result result = co_await client->exec(command("PING"));
      EXPECT_EQ(result.ec, error::not_connected);
    }
    // With Redis's own words, never the password.
    EXPECT_THAT(wrong_client.last_error_text(), HasSubstr("Redis refused AUTH or SELECT: WRONGPASS"));
    EXPECT_THAT(missing_client.last_error_text(), HasSubstr("NOAUTH"));
    EXPECT_EQ(wrong_client.last_error_text().find("guess"), std::string::npos);
  }());
}

// A TLS-only server with certificates from `ca`.
RedisServerOptions tls_server(const test::TestCa& ca, bool require_client_cert = false) {
  RedisServerOptions options;
  options.tls = test::RedisServerTls{ca.ca_file, ca.server_cert_file, ca.server_key_file, require_client_cert};
  return options;
}

// A client of that server that trusts `trusted` and verifies `server_name`.
ClientConfig tls_config_for(const RedisServer& server, config::RedisTlsConfig tls) {
  ClientConfig config = config_for(server);
  config.endpoint.tls = true;
  std::string why;
  config.tls = make_tls_context(tls, &why);
  EXPECT_TRUE(config.tls) << why;
  config.tls_server_name = tls.server_name;
  return config;
}

class TlsClientTest : public ClientTest {
 protected:
  test::TempDir dir{"pushgw-tls"};
  test::TestCa ca = test::make_test_ca(dir.path(), "trusted");
};

TEST_F(TlsClientTest, PipelinesCommandsOverTlsToATlsOnlyServer) {
  RedisServer server(tls_server(ca));
  Client client(io.get_executor(), tls_config_for(server, config::RedisTlsConfig{ca.ca_file, "", "", ""}));
  client.start();
  test::run_until_done(io, [&]() -> asio::awaitable<void> {
    EXPECT_TRUE(co_await test::eventually_async([&] { return client.connected(); })) << client.last_error().message();
    // Many callers at once: requests share TLS records and replies arrive split across them.
    std::vector<std::string> values(300);
    for (std::size_t i = 0; i < values.size(); ++i) values[i] = std::string(100 + i * 50, static_cast<char>('a' + i % 26));
    Request sets;
    for (std::size_t i = 0; i < values.size(); ++i) sets.push("SET", "k" + std::to_string(i), values[i]);
    Result set = co_await client.exec(std::move(sets));
    CO_ASSERT(!set.ec);
    Request gets;
    for (std::size_t i = 0; i < values.size(); ++i) gets.push("GET", "k" + std::to_string(i));
    Result got = co_await client.exec(std::move(gets));
    CO_ASSERT(got.replies.size() == values.size());
    for (std::size_t i = 0; i < values.size(); ++i) EXPECT_EQ(got.replies[i], bulk(values[i])) << i;
  }());
  SyncRedis check(server);  // through the unix socket: the TCP port speaks only TLS
  EXPECT_EQ(check.get("k0"), std::string(100, 'a'));
}

TEST_F(TlsClientTest, ACertificateFromAnotherCaOrForAnotherNameIsRefused) {
  const test::TestCa stranger = test::make_test_ca(dir.path(), "stranger");
  RedisServer server(tls_server(ca));
  Client untrusted(io.get_executor(), tls_config_for(server, config::RedisTlsConfig{stranger.ca_file, "", "", ""}));
  Client wrong_name(io.get_executor(), tls_config_for(server, config::RedisTlsConfig{ca.ca_file, "", "", "redis.example.com"}));
  untrusted.start();
  wrong_name.start();
  test::run_until_done(io, [&]() -> asio::awaitable<void> {
    const std::array<Client*, 2> clients{&untrusted, &wrong_name};
    for (Client* client : clients) {
      EXPECT_TRUE(co_await test::eventually_async([&] { return bool(client->last_error()); }));
      EXPECT_EQ(client->last_error(), error::tls_failed) << client->last_error().message();
      EXPECT_FALSE(client->connected());
      Result result = co_await client->exec(command("PING"));
      EXPECT_EQ(result.ec, error::not_connected);
    }
    // What /readyz shows: the reason, in OpenSSL's words.
    EXPECT_THAT(untrusted.last_error_text(), HasSubstr("the certificate is not trusted for 127.0.0.1"));
    EXPECT_THAT(wrong_name.last_error_text(), HasSubstr("not trusted for redis.example.com: hostname mismatch"));
  }());
}

TEST_F(TlsClientTest, AServerThatRequiresAClientCertificateTakesOnlyAClientWithOne) {
  RedisServer server(tls_server(ca, /*require_client_cert=*/true));
  Client without(io.get_executor(), tls_config_for(server, config::RedisTlsConfig{ca.ca_file, "", "", ""}));
  Client with(io.get_executor(), tls_config_for(server, config::RedisTlsConfig{ca.ca_file, ca.client_cert_file, ca.client_key_file, ""}));
  without.start();
  with.start();
  test::run_until_done(io, [&]() -> asio::awaitable<void> {
    EXPECT_TRUE(co_await test::eventually_async([&] { return with.connected(); })) << with.last_error().message();
    Result pong = co_await with.exec(command("PING"));
    EXPECT_EQ(pong.replies, std::vector<Reply>{status("PONG")});
    EXPECT_TRUE(co_await test::eventually_async([&] { return bool(without.last_error()); }));
    EXPECT_EQ(without.last_error(), error::tls_failed) << without.last_error().message();
    EXPECT_THAT(without.last_error_text(), HasSubstr("client certificate"));
    EXPECT_FALSE(without.connected());
  }());
}

TEST_F(TlsClientTest, AnAclUserAuthenticatesOverTls) {
  RedisServer server(tls_server(ca));
  SyncRedis admin(server);
  admin.command({"ACL", "SETUSER", "pushgw", "on", ">p@ss", "~*", "+@all"});
  ClientConfig config = tls_config_for(server, config::RedisTlsConfig{ca.ca_file, "", "", ""});
  config.endpoint.username = "pushgw";
  config.endpoint.password = "p@ss";
  Client client(io.get_executor(), config);
  client.start();
  test::run_until_done(io, [&]() -> asio::awaitable<void> {
    EXPECT_TRUE(co_await test::eventually_async([&] { return client.connected(); })) << client.last_error().message();
    Result who = co_await client.exec(command("ACL", "WHOAMI"));
    EXPECT_EQ(who.replies, std::vector<Reply>{bulk("pushgw")});
  }());
}

// Sentinel mode against `set`'s sentinels, the first of them a port where nothing listens.
ClientConfig sentinel_config_for(test::RedisSentinelSet& set, std::string master = test::RedisSentinelSet::kMaster) {
  ClientConfig config = config_for(set.master());
  config.endpoint.host.clear();
  config.endpoint.port = 0;
  config.sentinels.push_back({"127.0.0.1", test::free_tcp_port()});
  for (std::uint16_t port : set.sentinel_ports()) config.sentinels.push_back({"127.0.0.1", port});
  config.sentinel_master = std::move(master);
  return config;
}

class SentinelClientTest : public ClientTest {
 protected:
  test::RedisSentinelSet set;
};

TEST_F(SentinelClientTest, ConnectsToTheMasterTheSentinelsNamePastADeadSentinel) {
  Client client(io.get_executor(), sentinel_config_for(set));
  client.start();
  test::run_until_done(io, [&]() -> asio::awaitable<void> {
    EXPECT_TRUE(co_await test::eventually_async([&] { return client.connected(); })) << client.last_error_text();
    Result set_key = co_await client.exec(command("SET", "where", "master"));
    EXPECT_EQ(set_key.replies, std::vector<Reply>{status("OK")});
  }());
  EXPECT_EQ(client.server(), "master mymaster at 127.0.0.1:" + std::to_string(set.master().port()) + "/0");
  EXPECT_EQ(SyncRedis(set.master()).get("where"), "master");
}

TEST_F(SentinelClientTest, AMasterNoSentinelKnowsIsSentinelFailedWithEachOnesAnswer) {
  Client client(io.get_executor(), sentinel_config_for(set, "nosuch"));
  client.start();
  test::run_until_done(io, [&]() -> asio::awaitable<void> {
    EXPECT_TRUE(co_await test::eventually_async([&] { return bool(client.last_error()); }));
    EXPECT_EQ(client.last_error(), error::sentinel_failed) << client.last_error().message();
    EXPECT_FALSE(client.connected());
  }());
  const std::string why = client.last_error_text();
  EXPECT_THAT(why, HasSubstr("knows no master named nosuch")) << why;
  EXPECT_THAT(why, HasSubstr("Connection refused")) << why;  // the dead one
}

TEST_F(SentinelClientTest, FollowsAFailoverToThePromotedReplicaAndNeverWritesToAReplica) {
  Client client(io.get_executor(), sentinel_config_for(set));
  client.start();
  const std::string promoted = "master mymaster at 127.0.0.1:" + std::to_string(set.replica().port()) + "/0";
  test::run_until_done(io, [&]() -> asio::awaitable<void> {
    EXPECT_TRUE(co_await test::eventually_async([&] { return client.connected(); })) << client.last_error_text();
    set.force_failover();
    // Write until a write lands on the promoted replica: every write either succeeds on a
    // master or fails (READONLY, not connected); none may land on a replica.
    int written = 0;
    const bool moved = co_await test::eventually_async([&] { return client.server() == promoted; }, 60s);
    EXPECT_TRUE(moved) << client.server() << " " << client.last_error_text();
    for (int i = 0; i < 200 && written == 0; ++i) {
      Result r = co_await client.exec(command("SET", "after", "failover"));
      if (!r.ec && r.replies.at(0) == status("OK")) ++written;
      if (written == 0) {
        asio::steady_timer pause(io, 50ms);
        co_await pause.async_wait(asio::use_awaitable);
      }
    }
    EXPECT_EQ(written, 1) << client.last_error_text();
  }());
  EXPECT_EQ(SyncRedis(set.replica()).get("after"), "failover");
}

TEST_F(ClientTest, SelectsTheConfiguredDatabase) {
  RedisServer server;
  ClientConfig config = config_for(server);
  config.endpoint.db = 3;
  Client client(io.get_executor(), config);
  client.start();
  test::run_until_done(io, [&]() -> asio::awaitable<void> {
    EXPECT_TRUE(co_await test::eventually_async([&] { return client.connected(); }));
    Result result = co_await client.exec(command("SET", "where", "db3"));
    EXPECT_EQ(result.replies, std::vector<Reply>{status("OK")});
  }());
  SyncRedis db3(server, 3);
  SyncRedis db0(server, 0);
  EXPECT_EQ(db3.get("where"), "db3");
  EXPECT_EQ(db0.get("where"), std::nullopt);
}

TEST_F(ClientTest, CommandTimeoutDropsTheConnectionAndTheNextRequestWorks) {
  RedisServer server;
  SyncRedis redis(server);
  ClientConfig config = config_for(server);
  config.command_timeout = 300ms;
  config.name = "pushgw-timeout";
  Client client(io.get_executor(), config);
  client.start();
  test::run_until_done(io, [&]() -> asio::awaitable<void> {
    EXPECT_TRUE(co_await test::eventually_async([&] { return client.connected(); }));
    const long long first_id = client_id_named(redis, "pushgw-timeout");
    EXPECT_GT(first_id, 0);

    // The server would answer after 30 s; the client gives up long before.
    Result blocked = co_await client.exec(command("BLPOP", "never-filled", "30"));
    EXPECT_EQ(blocked.ec, error::timeout) << blocked.ec.message();
    EXPECT_TRUE(blocked.replies.empty());

    EXPECT_TRUE(co_await test::eventually_async([&] { return client.connected(); }));
    Result pong = co_await client.exec(command("PING"));
    EXPECT_FALSE(pong.ec) << pong.ec.message();
    EXPECT_EQ(pong.replies, std::vector<Reply>{status("PONG")});
    // A new connection: the blocked one was closed, so its late reply cannot be mismatched.
    EXPECT_TRUE(co_await test::eventually_async([&] { return blocked_clients(redis) == 0; }));
    EXPECT_NE(client_id_named(redis, "pushgw-timeout"), first_id);
  }());
}

TEST_F(ClientTest, KilledConnectionFailsPendingRequestsAndReconnects) {
  RedisServer server;
  SyncRedis redis(server);
  ClientConfig config = config_for(server);
  config.command_timeout = 0ms;  // BLPOP 0 blocks for good
  config.name = "pushgw-kill";
  Client client(io.get_executor(), config);
  client.start();
  test::run_until_done(io, [&]() -> asio::awaitable<void> {
    EXPECT_TRUE(co_await test::eventually_async([&] { return client.connected(); }));
    std::optional<Result> pending;
    asio::co_spawn(
        co_await asio::this_coro::executor,
        [&]() -> asio::awaitable<void> {
          pending = co_await client.exec(command("BLPOP", "never-filled", "0"));
        },
        asio::detached);
    EXPECT_TRUE(co_await test::eventually_async([&] { return blocked_clients(redis) == 1; }));
    const long long id = client_id_named(redis, "pushgw-kill");
    CO_ASSERT(id > 0);

    test::ReplyPtr killed = redis.command({"CLIENT", "KILL", "ID", std::to_string(id)});
    EXPECT_EQ(killed->integer, 1);

    EXPECT_TRUE(co_await test::eventually_async([&] { return pending.has_value(); }));
    if (pending) {
      EXPECT_EQ(pending->ec, error::connection_lost) << pending->ec.message();
    }
    EXPECT_TRUE(co_await test::eventually_async([&] { return client.connected(); }));
    Result pong = co_await client.exec(command("PING"));
    EXPECT_EQ(pong.replies, std::vector<Reply>{status("PONG")});
    EXPECT_NE(client_id_named(redis, "pushgw-kill"), id);
  }());
}

TEST_F(ClientTest, ConnectTimeoutWhenTheServerNeverAnswers) {
  // Accepts connections in the kernel (backlog) but never reads or replies.
  asio::ip::tcp::acceptor silent(io, {asio::ip::address_v4::loopback(), 0});
  ClientConfig config;
  config.endpoint.host = "127.0.0.1";
  config.endpoint.port = silent.local_endpoint().port();
  config.connect_timeout = 200ms;
  config.reconnect_min = 20ms;
  config.reconnect_max = 100ms;
  Client client(io.get_executor(), config);
  client.start();
  test::run_until_done(io, [&]() -> asio::awaitable<void> {
    EXPECT_TRUE(co_await test::eventually_async([&] { return bool(client.last_error()); }));
    EXPECT_EQ(client.last_error(), asio::error::timed_out) << client.last_error().message();
    EXPECT_FALSE(client.connected());
  }());
}

TEST_F(ClientTest, CancelledCallersDoNotShiftRepliesOfOthers) {
  RedisServer server;
  Client client(io.get_executor(), config_for(server));
  client.start();
  test::run_until_done(io, [&]() -> asio::awaitable<void> {
    using namespace asio::experimental::awaitable_operators;
    EXPECT_TRUE(co_await test::eventually_async([&] { return client.connected(); }));
    for (int i = 0; i < 50; ++i) {
      // Abandon a request while its reply is on the way (or cancel it before it is sent).
      const std::string key = "c" + std::to_string(i);
      co_await (client.exec(command("SET", key, key)) ||
                asio::post(co_await asio::this_coro::executor, asio::use_awaitable));
      Result echo = co_await client.exec(command("ECHO", "echo-" + key));
      EXPECT_FALSE(echo.ec) << echo.ec.message();
      EXPECT_EQ(echo.replies, std::vector<Reply>{bulk("echo-" + key)}) << "after " << key;
    }
  }());
}

TEST_F(ClientTest, StopFailsPendingRequestsWithStopped) {
  RedisServer server;
  SyncRedis redis(server);
  ClientConfig config = config_for(server);
  config.command_timeout = 0ms;
  Client client(io.get_executor(), config);
  client.start();
  test::run_until_done(io, [&]() -> asio::awaitable<void> {
    EXPECT_TRUE(co_await test::eventually_async([&] { return client.connected(); }));
    std::optional<Result> pending;
    asio::co_spawn(
        co_await asio::this_coro::executor,
        [&]() -> asio::awaitable<void> {
          pending = co_await client.exec(command("BLPOP", "never-filled", "0"));
        },
        asio::detached);
    EXPECT_TRUE(co_await test::eventually_async([&] { return blocked_clients(redis) == 1; }));

    client.stop();
    EXPECT_FALSE(client.connected());
    EXPECT_TRUE(co_await test::eventually_async([&] { return pending.has_value(); }));
    if (pending) {
      EXPECT_EQ(pending->ec, error::stopped) << pending->ec.message();
    }
    Result after = co_await client.exec(command("PING"));
    EXPECT_EQ(after.ec, error::stopped);
    // The server sees the connection go away.
    EXPECT_TRUE(co_await test::eventually_async([&] { return blocked_clients(redis) == 0; }));
  }());
}

TEST_F(ClientTest, DestroyingTheClientWhileCallersWaitIsSafe) {
  RedisServer server;
  SyncRedis redis(server);
  ClientConfig config = config_for(server);
  config.command_timeout = 0ms;
  auto client = std::make_unique<Client>(io.get_executor(), config);
  client->start();
  test::run_until_done(io, [&]() -> asio::awaitable<void> {
    EXPECT_TRUE(co_await test::eventually_async([&] { return client->connected(); }));
    std::optional<Result> pending;
    asio::co_spawn(
        co_await asio::this_coro::executor,
        [&]() -> asio::awaitable<void> {
          pending = co_await client->exec(command("BLPOP", "never-filled", "0"));
        },
        asio::detached);
    EXPECT_TRUE(co_await test::eventually_async([&] { return blocked_clients(redis) == 1; }));
    client.reset();  // the caller is still suspended in exec()
    EXPECT_TRUE(co_await test::eventually_async([&] { return pending.has_value(); }));
    if (pending) {
      EXPECT_EQ(pending->ec, error::stopped) << pending->ec.message();
    }
  }());
}

TEST_F(ClientTest, DestroyingTheClientAfterItsContextStoppedIsSafe) {
  RedisServer server;
  SyncRedis redis(server);
  auto client = std::make_unique<Client>(io.get_executor(), config_for(server));
  client->start();
  test::run_until_done(io, [&]() -> asio::awaitable<void> {
    EXPECT_TRUE(co_await test::eventually_async([&] { return client->connected(); }));
  }());
  io.stop();  // with the client's coroutines suspended in it
  ASSERT_NE(client_id_named(redis, "pushgw-test"), -1);
  client.reset();
  // When the context runs again, the coroutines of the destroyed client end without touching
  // it (the sanitizer build would report it): the connection closes and nothing is left.
  io.restart();
  EXPECT_TRUE(test::run_until(io, [&] { return io.stopped(); })) << "the destroyed client's coroutines kept running";
  EXPECT_TRUE(test::eventually([&] { return client_id_named(redis, "pushgw-test") == -1; }))
      << "the destroyed client's connection is still open";
}

}  // namespace
}  // namespace pushgw::redis
