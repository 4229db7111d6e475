// provider/provider: the one send operation (async_send) with a plain callback and with a
// coroutine, hopping onto the provider's executor and back; and the HTTP/2 pool a provider may
// own (start_pool), which stop(), send_permits() and pool_stats() use by default.
#include "pushgw/provider/provider.hpp"

#include <gtest/gtest.h>

#include <boost/asio.hpp>

#include <atomic>
#include <thread>

#include "support/asio_wait.hpp"
#include "support/eventually.hpp"

namespace pushgw::provider {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

// Answers every send at once with 200 and the thread it ran on; its pool is started on demand.
class EchoProvider final : public Provider {
 public:
  explicit EchoProvider(asio::any_io_executor executor)
      : Provider(std::move(executor), job::Platform::ios, "echo", "demo") {}

  bool start(std::string* error) override {
    h2::PoolConfig config;
    config.connection.host = "127.0.0.1";
    config.connection.port = 1;  // nothing listens: the pool keeps trying, which is fine here
    config.connection.ca_file = ca_file;
    config.connections = 1;
    config.max_inflight = 7;
    return start_pool(std::move(config), error) != nullptr;
  }
  std::shared_ptr<const Prepared> prepare(const job::Notification&) const override {
    return std::make_shared<Prepared>();
  }
  Health health() const override { return {}; }

  std::string ca_file;
  std::atomic<std::thread::id> sent_on;

 protected:
  void send(common::Permit, std::shared_ptr<const Prepared>, const std::string& token, SendHandler done) override {
    sent_on = std::this_thread::get_id();
    job::SendOutcome outcome;
    outcome.status = 200;
    outcome.reason = token;
    done(std::move(outcome));
  }
};

TEST(ProviderTest, AsyncSendRunsOnTheProvidersExecutorAndAnswersOnTheCallers) {
  asio::io_context provider_io;
  auto guard = asio::make_work_guard(provider_io);
  std::thread provider_thread([&] { provider_io.run(); });
  EchoProvider provider(provider_io.get_executor());

  asio::io_context caller_io;
  std::optional<job::SendOutcome> by_coroutine;
  std::thread::id answered_on;
  asio::co_spawn(caller_io, [&]() -> asio::awaitable<void> {
    const std::string token = "t-1";
    by_coroutine = co_await provider.async_send(common::Permit(), std::make_shared<Prepared>(), token, asio::use_awaitable);
    answered_on = std::this_thread::get_id();
  }, asio::detached);
  ASSERT_TRUE(test::run_until(caller_io, [&] { return by_coroutine.has_value(); }));
  EXPECT_EQ(by_coroutine->reason, "t-1");
  EXPECT_EQ(provider.sent_on.load(), provider_thread.get_id());
  EXPECT_EQ(answered_on, std::this_thread::get_id());

  // A plain callback runs where the send answered, on the provider's executor.
  std::atomic<bool> called{false};
  std::atomic<std::thread::id> called_on;
  provider.async_send(common::Permit(), std::make_shared<Prepared>(), "t-2", [&](job::SendOutcome outcome) {
    EXPECT_EQ(outcome.reason, "t-2");
    called_on = std::this_thread::get_id();
    called = true;
  });
  ASSERT_TRUE(test::eventually([&] { return called.load(); }));
  EXPECT_EQ(called_on.load(), provider_thread.get_id());

  guard.reset();
  provider_io.stop();
  provider_thread.join();
}

TEST(ProviderTest, ThePoolsPermitsAndStatsAreThereOnlyOnceItStarted) {
  asio::io_context io;
  EchoProvider provider(io.get_executor());
  EXPECT_EQ(provider.send_permits(), nullptr);
  EXPECT_EQ(provider.pool_stats().connecting + provider.pool_stats().ready, 0u);

  std::string error;
  provider.ca_file = "/nonexistent/ca.pem";
  EXPECT_FALSE(provider.start(&error));
  EXPECT_NE(error.find("/nonexistent/ca.pem"), std::string::npos) << error;
  EXPECT_EQ(provider.send_permits(), nullptr) << "a pool that did not start is not kept";

  provider.ca_file.clear();
  ASSERT_TRUE(provider.start(&error)) << error;
  ASSERT_NE(provider.send_permits(), nullptr);
  EXPECT_EQ(provider.send_permits()->capacity(), 7u);
  EXPECT_EQ(provider.pool_stats().connecting, 1u);

  bool stopped = false;
  asio::co_spawn(io, [&]() -> asio::awaitable<void> {
    co_await provider.stop(100ms);
    stopped = true;
  }, asio::detached);
  ASSERT_TRUE(test::run_until(io, [&] { return stopped; }));
  EXPECT_EQ(provider.pool_stats().closed, 1u);
}

}  // namespace
}  // namespace pushgw::provider
