// common/retry.hpp: a step retried until it succeeds, the first failure reported, giving up.
#include "pushgw/common/retry.hpp"

#include <gtest/gtest.h>

#include <boost/asio.hpp>

namespace pushgw::common {
namespace {

namespace asio = boost::asio;
using boost::system::error_code;
using std::chrono::milliseconds;

const error_code kDown = make_error_code(boost::system::errc::connection_refused);

// Runs `body` to completion on a fresh io_context (timers of 1 ms: no waiting on real time
// beyond that).
template <class Body>
error_code run(Body body) {
  asio::io_context io;
  error_code result = make_error_code(boost::system::errc::timed_out);
  bool done = false;
  asio::co_spawn(io, [&]() -> asio::awaitable<void> {
    result = co_await body();
    done = true;
  }, asio::detached);
  io.run();
  EXPECT_TRUE(done);
  return result;
}

TEST(RetryUntilDone, RetriesUntilTheStepSucceedsAndReportsEachFailure) {
  int calls = 0;
  std::vector<unsigned> reported;
  const error_code ec = run([&] {
    return retry_until_done(
        [&]() -> asio::awaitable<error_code> { co_return ++calls < 4 ? kDown : error_code{}; },
        Backoff{milliseconds(1), milliseconds(1)}, [] { return false; },
        [&](const error_code& e, unsigned failures) {
          EXPECT_EQ(e, kDown);
          reported.push_back(failures);
        });
  });
  EXPECT_FALSE(ec);
  EXPECT_EQ(calls, 4);
  EXPECT_EQ(reported, (std::vector<unsigned>{1, 2, 3}));
}

TEST(RetryUntilDone, GivesUpWithTheLastErrorAndCountsTheCallersOwnFirstTry) {
  int calls = 0;
  bool stop = false;
  const error_code ec = run([&] {
    return retry_until_done(
        [&]() -> asio::awaitable<error_code> {
          ++calls;
          stop = true;  // the instance starts stopping while this try fails
          co_return kDown;
        },
        Backoff{milliseconds(1), milliseconds(1)}, [&] { return stop; }, [](const error_code&, unsigned) {}, kDown);
  });
  EXPECT_EQ(ec, kDown);
  EXPECT_EQ(calls, 1);  // the caller's failed try, then one retry, then it gave up
}

}  // namespace
}  // namespace pushgw::common
