#include "pushgw/queue/lane_scheduler.hpp"

#include <gtest/gtest.h>

#include <array>

namespace pushgw::queue {

constexpr std::size_t kHigh = 0, kDefault = 1, kBulk = 2;

TEST(LaneIndex, FollowsKLanes) {
  EXPECT_EQ(lane_index("high"), kHigh);
  EXPECT_EQ(lane_index("default"), kDefault);
  EXPECT_EQ(lane_index("bulk"), kBulk);
  EXPECT_EQ(lane_index("urgent"), kLaneCount);
}

TEST(LaneScheduler, ServesBusyLanesInProportionToTheirWeights) {
  LaneScheduler s({8, 4, 1});
  for (std::size_t lane = 0; lane < kLaneCount; ++lane) s.set_waiting(lane, true);
  std::array<int, kLaneCount> served{};
  for (int i = 0; i < 1300; ++i) ++served[*s.next()];
  EXPECT_EQ(served[kHigh], 800);
  EXPECT_EQ(served[kDefault], 400);
  EXPECT_EQ(served[kBulk], 100);
}

TEST(LaneScheduler, ALaneAloneIsAlwaysServedAndNoneWaitingGivesNothing) {
  LaneScheduler s({8, 4, 1});
  EXPECT_FALSE(s.next());
  EXPECT_FALSE(s.any_waiting());
  s.set_waiting(kBulk, true);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(s.next(), kBulk);
}

TEST(LaneScheduler, AnIdleLaneGetsNoCreditForItsIdleTime) {
  LaneScheduler s({1, 1, 1});
  s.set_waiting(kBulk, true);
  for (int i = 0; i < 100; ++i) s.next();  // bulk alone for a long time
  s.set_waiting(kHigh, true);              // high arrives: it must not monopolise
  std::array<int, kLaneCount> served{};
  for (int i = 0; i < 10; ++i) ++served[*s.next()];
  EXPECT_EQ(served[kHigh], 5);
  EXPECT_EQ(served[kBulk], 5);
}

TEST(LaneScheduler, AHighJobArrivingBehindABulkBacklogIsServedNext) {
  LaneScheduler s({8, 4, 1});
  s.set_waiting(kBulk, true);
  for (int i = 0; i < 1000; ++i) s.next();
  s.set_waiting(kHigh, true);
  EXPECT_EQ(s.next(), kHigh);  // ties go to the higher-priority lane
}

TEST(LaneScheduler, ZeroWeightCountsAsOne) {
  LaneScheduler s({0, 0, 0});
  s.set_waiting(kHigh, true);
  s.set_waiting(kBulk, true);
  std::array<int, kLaneCount> served{};
  for (int i = 0; i < 10; ++i) ++served[*s.next()];
  EXPECT_EQ(served[kHigh], 5);
  EXPECT_EQ(served[kBulk], 5);
}

}  // namespace pushgw::queue
