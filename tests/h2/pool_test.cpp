#include "pushgw/h2/pool.hpp"

#include <gtest/gtest.h>

#include <boost/asio.hpp>

#include "sim/sim_fixture.hpp"
#include "support/asio_wait.hpp"

namespace pushgw::h2 {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using testing::behaviour;
using testing::count_outcomes;
using testing::device_token;
using test::eventually_async;
using test::run_until_done;
using testing::send_concurrently;
using testing::SimServer;
using testing::sleep_for;
using boost::system::error_code;

PoolConfig pool_config(const SimServer& sim, std::size_t connections, std::size_t max_inflight) {
  PoolConfig config;
  config.connection = sim.client_config();
  config.connections = connections;
  config.max_inflight = max_inflight;
  config.reconnect_min = 20ms;
  config.reconnect_max = 200ms;
  return config;
}

std::vector<Request> requests_for(const SimServer& sim, unsigned long count) {
  std::vector<Request> requests;
  for (unsigned long i = 0; i < count; ++i) requests.push_back(sim.apns_request(device_token(i)));
  return requests;
}

// Waits until every connection of `pool` is ready.
asio::awaitable<void> wait_all_ready(const Pool& pool) {
  EXPECT_TRUE(co_await eventually_async([&] { return pool.stats().ready == pool.config().connections; }))
      << pool.stats().ready << " of " << pool.config().connections << " connections ready";
}

TEST(H2Pool, SpreadsRequestsOverAllConnections) {
  SimServer sim(behaviour([](auto& b) { b.latency_ms = 5; }));
  asio::io_context io;
  Pool pool(io.get_executor(), pool_config(sim, 4, 1000));
  std::string error;
  ASSERT_TRUE(pool.start(&error)) << error;

  const auto results = run_until_done(io, [&]() -> asio::awaitable<std::vector<Result>> {
    co_await wait_all_ready(pool);
    co_return co_await send_concurrently(pool, requests_for(sim, 400));
  }());
  EXPECT_EQ(count_outcomes(results), (std::map<std::string, int>{{"200", 400}}));
  const auto stats = pool.stats();
  EXPECT_EQ(stats.ready, 4u);
  EXPECT_EQ(stats.in_flight, 0u);
  EXPECT_EQ(sim.stats().connections, 4u);
  EXPECT_EQ(sim.stats().unique, 400u);
  // Least-in-flight spreading put more than one connection's worth of streams in flight.
  EXPECT_GT(sim.stats().max_inflight_seen, sim.stats().max_concurrent_streams_seen);
}

TEST(H2Pool, MaxInflightBoundsTheRequestsInFlight) {
  SimServer sim(behaviour([](auto& b) { b.latency_ms = 20; b.stream_ramp = false; }));
  asio::io_context io;
  Pool pool(io.get_executor(), pool_config(sim, 2, 50));
  ASSERT_TRUE(pool.start());

  std::size_t most_waiting = 0;
  const auto results = run_until_done(io, [&]() -> asio::awaitable<std::vector<Result>> {
    co_await wait_all_ready(pool);
    auto ex = co_await asio::this_coro::executor;
    bool sending = true;
    asio::co_spawn(
        ex,
        [&]() -> asio::awaitable<void> {
          while (sending) {
            most_waiting = std::max(most_waiting, pool.stats().waiting);
            EXPECT_LE(pool.stats().in_flight, 50u);
            co_await sleep_for(5ms);
          }
        },
        asio::detached);
    auto all = co_await send_concurrently(pool, requests_for(sim, 500));
    sending = false;
    co_return all;
  }());
  EXPECT_EQ(count_outcomes(results), (std::map<std::string, int>{{"200", 500}}));
  EXPECT_LE(sim.stats().max_inflight_seen, 50u);
  EXPECT_GT(sim.stats().max_inflight_seen, 1u);
  EXPECT_GT(most_waiting, 0u);  // callers did wait for permits
}

// A caller that holds the pool's permits (a fan-out) sends with them; the pool counts them as
// its own and gives each back with its result. A permit of another semaphore is refused.
TEST(H2Pool, RequestsSentWithTheCallersPermitsAreCountedAndGivenBack) {
  SimServer sim;
  asio::io_context io;
  Pool pool(io.get_executor(), pool_config(sim, 1, 3));
  ASSERT_TRUE(pool.start());
  common::Semaphore& permits = pool.permits();
  EXPECT_EQ(permits.capacity(), 3u);

  const auto results = run_until_done(io, [&]() -> asio::awaitable<std::vector<Result>> {
    co_await wait_all_ready(pool);
    std::vector<Result> out;
    EXPECT_TRUE(permits.try_acquire());
    EXPECT_EQ(permits.in_use(), 1u);
    out.push_back(co_await pool.async_request(permits.adopt(), sim.apns_request(device_token(1)), asio::use_awaitable));
    EXPECT_EQ(permits.in_use(), 0u);  // given back with the result
    common::Semaphore elsewhere(co_await asio::this_coro::executor, 1);
    EXPECT_TRUE(elsewhere.try_acquire());
    out.push_back(co_await pool.async_request(elsewhere.adopt(), sim.apns_request(device_token(2)), asio::use_awaitable));
    EXPECT_EQ(elsewhere.in_use(), 0u);  // not kept either
    co_return out;
  }());
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[0].response.status, 200);
  EXPECT_EQ(results[1].ec, error::bad_request);
  EXPECT_EQ(sim.stats().unique, 1u);
  EXPECT_EQ(pool.stats().in_flight, 0u);
}

TEST(H2Pool, GoawayMidBurstDeliversEveryRequestExactlyOnce) {
  SimServer sim(behaviour([](auto& b) { b.goaway_after = 100; b.latency_ms = 2; }));
  asio::io_context io;
  Pool pool(io.get_executor(), pool_config(sim, 2, 100));
  ASSERT_TRUE(pool.start());

  const auto results = run_until_done(io, [&]() -> asio::awaitable<std::vector<Result>> {
    co_await wait_all_ready(pool);
    co_return co_await send_concurrently(pool, requests_for(sim, 1000));
  }());
  EXPECT_EQ(count_outcomes(results), (std::map<std::string, int>{{"200", 1000}}));
  const auto stats = sim.stats();
  EXPECT_EQ(stats.unique, 1000u);
  EXPECT_EQ(stats.duplicates, 0u);
  EXPECT_GE(stats.goaways_sent, 9u);
  // The last replacement connection may still be opening when the burst ends (slow under the
  // sanitizers): run the pool until it is there.
  EXPECT_TRUE(test::run_until(io, [&] { return pool.stats().reconnects >= 9u; })) << pool.stats().reconnects;
}

TEST(H2Pool, SubmitMidGoawayResendsNotProcessedRequestsAndAnswersEachOnce) {
  SimServer sim(behaviour([](auto& b) { b.goaway_after = 100; b.latency_ms = 2; }));
  asio::io_context io;
  Pool pool(io.get_executor(), pool_config(sim, 2, 100));
  ASSERT_TRUE(pool.start());

  const auto record = run_until_done(io, [&]() -> asio::awaitable<testing::SubmitRecord> {
    co_await wait_all_ready(pool);
    co_return co_await testing::submit_all(pool, requests_for(sim, 1000));
  }());
  EXPECT_EQ(record.calls, std::vector<int>(1000, 1));
  EXPECT_EQ(count_outcomes(record.results), (std::map<std::string, int>{{"200", 1000}}));
  EXPECT_EQ(sim.stats().unique, 1000u);
  EXPECT_EQ(sim.stats().duplicates, 0u);
  EXPECT_GE(sim.stats().goaways_sent, 9u);
  EXPECT_LE(sim.stats().max_inflight_seen, 100u);
  EXPECT_EQ(pool.stats().in_flight, 0u);
}

TEST(H2Pool, SubmitBeforeAConnectionIsReadyWaitsForOneAndAfterStopFailsClosed) {
  SimServer sim;
  asio::io_context io;
  Pool pool(io.get_executor(), pool_config(sim, 1, 10));
  ASSERT_TRUE(pool.start());
  const auto early = run_until_done(io, testing::submit_all(pool, requests_for(sim, 3)));
  EXPECT_EQ(count_outcomes(early.results), (std::map<std::string, int>{{"200", 3}}));
  const auto late = run_until_done(io, [&]() -> asio::awaitable<testing::SubmitRecord> {
    co_await pool.stop(1s);
    co_return co_await testing::submit_all(pool, requests_for(sim, 2));
  }());
  EXPECT_EQ(late.calls, std::vector<int>(2, 1));
  EXPECT_EQ(count_outcomes(late.results), (std::map<std::string, int>{{error_code(error::closed).message(), 2}}));
}

TEST(H2Pool, ADroppedConnectionFailsItsInFlightRequestsAndThePoolReconnects) {
  SimServer sim(behaviour([](auto& b) {
    b.drop_after = 30;
    b.latency_ms = 50;
    b.stream_ramp = false;
  }));
  asio::io_context io;
  Pool pool(io.get_executor(), pool_config(sim, 1, 100));
  ASSERT_TRUE(pool.start());

  const auto results = run_until_done(io, [&]() -> asio::awaitable<std::vector<Result>> {
    co_await wait_all_ready(pool);
    co_return co_await send_concurrently(pool, requests_for(sim, 60));
  }());
  int lost = 0, ok = 0;
  for (const auto& result : results) {
    if (result.ec == error::connection_lost) ++lost;
    else if (!result.ec && result.response.status == 200) ++ok;
    else ADD_FAILURE() << "unexpected " << result.ec.message();
  }
  EXPECT_GE(lost, 30);  // the caller decides whether to retry these
  EXPECT_EQ(ok + lost, 60);

  // The pool reconnects in the background and serves again.
  sim.server->behaviour().set(behaviour([](auto& b) { b.stream_ramp = false; }));
  const Result after = run_until_done(io, [&]() -> asio::awaitable<Result> {
    co_await wait_all_ready(pool);
    co_return co_await pool.async_request({}, sim.apns_request(device_token(999)), asio::use_awaitable);
  }());
  EXPECT_FALSE(after.ec) << after.ec.message();
  EXPECT_GE(pool.stats().reconnects, 1u);
  EXPECT_GE(sim.stats().connections_dropped, 1u);
}

TEST(H2Pool, WithoutAReachableServerRequestsFailWithTheConnectError) {
  asio::io_context io;
  std::uint16_t closed_port = 0;
  {
    asio::ip::tcp::acceptor probe(io, {asio::ip::make_address("127.0.0.1"), 0});
    closed_port = probe.local_endpoint().port();
  }
  PoolConfig config;
  config.connection.host = "127.0.0.1";
  config.connection.port = closed_port;
  config.connection.connect_timeout = 300ms;
  config.connections = 2;
  config.reconnect_min = 20ms;
  Pool pool(io.get_executor(), config);
  ASSERT_TRUE(pool.start());
  Request request;
  request.path = "/3/device/" + device_token(1);
  const Result result = run_until_done(io, pool.async_request({}, request, asio::use_awaitable));
  EXPECT_EQ(result.ec, error::connect_failed) << result.ec.message();
  EXPECT_GE(pool.stats().connecting, 1u);
}

TEST(H2Pool, StartRejectsAnUnusableConfiguration) {
  asio::io_context io;
  PoolConfig config;
  config.connection.host = "127.0.0.1";
  config.connection.ca_file = "/nonexistent/ca.pem";
  Pool pool(io.get_executor(), config);
  std::string error;
  EXPECT_FALSE(pool.start(&error));
  EXPECT_NE(error.find("/nonexistent/ca.pem"), std::string::npos) << error;
  // A pool that did not start refuses requests.
  EXPECT_EQ(run_until_done(io, pool.async_request({}, Request{}, asio::use_awaitable)).ec, error::closed);
}

TEST(H2Pool, StopLetsInFlightRequestsFinishAndRefusesNewOnes) {
  SimServer sim(behaviour([](auto& b) { b.latency_ms = 200; }));
  asio::io_context io;
  Pool pool(io.get_executor(), pool_config(sim, 2, 100));
  ASSERT_TRUE(pool.start());
  Result in_flight, refused;
  bool in_flight_done = false;
  run_until_done(io, [&]() -> asio::awaitable<void> {
    co_await wait_all_ready(pool);
    asio::co_spawn(
        co_await asio::this_coro::executor,
        [&]() -> asio::awaitable<void> {
          in_flight = co_await pool.async_request({}, sim.apns_request(device_token(1)), asio::use_awaitable);
          in_flight_done = true;
        },
        asio::detached);
    // The server has the whole request (it answers after its 200 ms latency).
    EXPECT_TRUE(co_await eventually_async([&] { return sim.stats().received == 1; }));
    co_await pool.stop(5s);
    refused = co_await pool.async_request({}, sim.apns_request(device_token(2)), asio::use_awaitable);
    EXPECT_TRUE(co_await eventually_async([&] { return in_flight_done; }));
  }());
  ASSERT_FALSE(in_flight.ec) << in_flight.ec.message();
  EXPECT_EQ(in_flight.response.status, 200);
  EXPECT_EQ(refused.ec, error::closed);
  EXPECT_EQ(pool.stats().closed, 2u);
}

TEST(H2Pool, RequestsFromAnotherThreadsExecutorHopOver) {
  SimServer sim;
  asio::io_context pool_io;
  auto guard = asio::make_work_guard(pool_io);
  std::thread pool_thread([&] { pool_io.run(); });
  Pool pool(pool_io.get_executor(), pool_config(sim, 1, 10));
  ASSERT_TRUE(pool.start());

  asio::io_context caller_io;
  const Result result = run_until_done(caller_io, pool.async_request({}, sim.apns_request(device_token(5)), asio::use_awaitable));
  EXPECT_FALSE(result.ec) << result.ec.message();
  EXPECT_EQ(result.response.status, 200);
  guard.reset();
  pool_io.stop();
  pool_thread.join();
}

}  // namespace
}  // namespace pushgw::h2
