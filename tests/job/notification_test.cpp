#include "pushgw/job/notification.hpp"

#include <gtest/gtest.h>

namespace pushgw::job {
namespace {

TEST(Notification, PlatformAndPriorityNames) {
  EXPECT_EQ(to_string(Platform::ios), "ios");
  EXPECT_EQ(to_string(Platform::android), "android");
  EXPECT_EQ(to_string(Priority::high), "high");
  EXPECT_EQ(to_string(Priority::normal), "normal");
}

TEST(Notification, LaneDefaultsToDefault) {
  Notification n;
  EXPECT_EQ(lane_of(n), "default");
  n.lane = "bulk";
  EXPECT_EQ(lane_of(n), "bulk");
}

TEST(Notification, EqualityComparesEveryField) {
  Notification a;
  Notification b;
  EXPECT_EQ(a, b);
  b.data = nlohmann::json{{"k", 1}};
  EXPECT_NE(a, b);
  a.data = nlohmann::json{{"k", 2}};
  EXPECT_NE(a, b);
  a.data = b.data;
  b.job = JobMeta{"id", 0, 0, 1};
  EXPECT_NE(a, b);
}

}  // namespace
}  // namespace pushgw::job
