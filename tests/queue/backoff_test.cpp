#include "pushgw/queue/backoff.hpp"

#include <gtest/gtest.h>

namespace pushgw::queue {

using namespace std::chrono_literals;

config::RetriesConfig retries(std::chrono::milliseconds min, std::chrono::milliseconds max) {
  config::RetriesConfig r;
  r.backoff_min = min;
  r.backoff_max = max;
  return r;
}

TEST(RetryDelay, DoublesPerAttemptFromTheMinimumUpToTheMaximum) {
  const auto r = retries(1s, 10s);
  // jitter 0.5 is the middle of the range: factor 1.
  EXPECT_EQ(retry_delay(r, 1, std::nullopt, 0.5), 1s);
  EXPECT_EQ(retry_delay(r, 2, std::nullopt, 0.5), 2s);
  EXPECT_EQ(retry_delay(r, 3, std::nullopt, 0.5), 4s);
  EXPECT_EQ(retry_delay(r, 4, std::nullopt, 0.5), 8s);
  EXPECT_EQ(retry_delay(r, 5, std::nullopt, 0.5), 10s);
  EXPECT_EQ(retry_delay(r, 500, std::nullopt, 0.5), 10s);  // no overflow for huge attempts
}

TEST(RetryDelay, JitterSpreadsByAQuarterEitherWay) {
  const auto r = retries(1s, 10s);
  EXPECT_EQ(retry_delay(r, 2, std::nullopt, 0.0), 1500ms);
  EXPECT_EQ(retry_delay(r, 2, std::nullopt, 1.0), 2500ms);
  EXPECT_EQ(retry_delay(r, 2, std::nullopt, 7.0), 2500ms);  // clamped
}

TEST(RetryDelay, RetryAfterIsAFloorEvenAboveTheMaximum) {
  const auto r = retries(1s, 10s);
  EXPECT_EQ(retry_delay(r, 1, 30s, 0.5), 30s);
  EXPECT_EQ(retry_delay(r, 4, 2s, 0.5), 8s);  // the backoff is already longer
}

}  // namespace pushgw::queue
