#include "pushgw/queue/lane_scheduler.hpp"

#include <gtest/gtest.h>

#include <array>

namespace pushgw::queue {

constexpr Lane kHigh = Lane::high(), kDefault = Lane::default_lane(), kBulk = Lane::bulk();

TEST(LaneScheduler, ServesBusyLanesInProportionToTheirWeights) {
  LaneScheduler s({8, 4, 1});
  for (const Lane lane : Lane::all()) s.set_waiting(lane, true);
  std::array<int, Lane::kCount> served{};
  for (int i = 0; i < 1300; ++i) ++served[s.next()->index()];
  EXPECT_EQ(served[kHigh.index()], 800);
  EXPECT_EQ(served[kDefault.index()], 400);
  EXPECT_EQ(served[kBulk.index()], 100);
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
  std::array<int, Lane::kCount> served{};
  for (int i = 0; i < 10; ++i) ++served[s.next()->index()];
  EXPECT_EQ(served[kHigh.index()], 5);
  EXPECT_EQ(served[kBulk.index()], 5);
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
  std::array<int, Lane::kCount> served{};
  for (int i = 0; i < 10; ++i) ++served[s.next()->index()];
  EXPECT_EQ(served[kHigh.index()], 5);
  EXPECT_EQ(served[kBulk.index()], 5);
}

}  // namespace pushgw::queue
