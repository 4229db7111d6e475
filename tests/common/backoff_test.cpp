// common/backoff.hpp: doubling from min, the cap, the jitter range, no busy loop at 0.
#include "pushgw/common/backoff.hpp"

#include <gtest/gtest.h>

namespace pushgw::common {
namespace {

using std::chrono::milliseconds;

TEST(Backoff, DoublesFromMinUpToMaxWithinTheJitterRange) {
  const Backoff b{milliseconds(100), milliseconds(1000), 0.75, 1.25};
  EXPECT_EQ(b.delay(1, 0.5), milliseconds(100));
  EXPECT_EQ(b.delay(2, 0.5), milliseconds(200));
  EXPECT_EQ(b.delay(4, 0.5), milliseconds(800));
  EXPECT_EQ(b.delay(5, 0.5), milliseconds(1000));   // capped
  EXPECT_EQ(b.delay(500, 0.5), milliseconds(1000));  // no overflow however many failures
  EXPECT_EQ(b.delay(1, 0.0), milliseconds(75));
  EXPECT_EQ(b.delay(1, 1.0), milliseconds(125));
  EXPECT_EQ(b.delay(1, 7.0), milliseconds(125));  // draws outside [0, 1] are clamped
}

TEST(Backoff, AZeroMinimumIsNeverABusyLoop) {
  const Backoff b{milliseconds(0), milliseconds(0), 1.0, 1.0};
  EXPECT_EQ(b.delay(1, 0.5), milliseconds(1));
}

TEST(BackoffSequence, GrowsPerFailureAndStartsAgainAfterReset) {
  BackoffSequence s(Backoff{milliseconds(10), milliseconds(10000), 1.0, 1.0});
  EXPECT_EQ(s.next(), milliseconds(10));
  EXPECT_EQ(s.next(), milliseconds(20));
  EXPECT_EQ(s.next(), milliseconds(40));
  EXPECT_EQ(s.failures(), 3u);
  s.reset();
  EXPECT_EQ(s.next(), milliseconds(10));
}

TEST(BackoffSequence, JitterStaysInItsRange) {
  const Backoff b{milliseconds(1000), milliseconds(1000), 0.5, 1.0};
  for (int i = 0; i < 200; ++i) {
    const auto d = b.jittered_delay(1);
    EXPECT_GE(d, milliseconds(500));
    EXPECT_LE(d, milliseconds(1000));
  }
}

}  // namespace
}  // namespace pushgw::common
