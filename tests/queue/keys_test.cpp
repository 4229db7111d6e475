#include "pushgw/queue/keys.hpp"

#include <gtest/gtest.h>

namespace pushgw::queue {

TEST(Keys, FollowTheDesignedNamesWithOneHashTagPerLane) {
  Keys keys;
  EXPECT_EQ(keys.queue("default"), "pushgw:{default}:queue");
  EXPECT_EQ(keys.processing("high", "pod-1"), "pushgw:{high}:processing:pod-1");
  EXPECT_EQ(keys.retry("bulk"), "pushgw:{bulk}:retry");
  EXPECT_EQ(keys.dead("default"), "pushgw:{default}:dead");
  EXPECT_EQ(keys.instance("pod-1"), "pushgw:instance:pod-1");
  EXPECT_EQ(keys.instances(), "pushgw:instances");
  EXPECT_EQ(keys.inactive("demo", "ios"), "pushgw:inactive:demo:ios");
  EXPECT_EQ(keys.feedback(), "pushgw:feedback");
  EXPECT_EQ(keys.reaper_lease(), "pushgw:reaper");
  EXPECT_EQ(keys.idempotency("demo", "order-42"), "pushgw:idempotency:demo:order-42");
}

TEST(Keys, UseTheConfiguredPrefix) {
  Keys keys("acme");
  EXPECT_EQ(keys.queue("bulk"), "acme:{bulk}:queue");
  EXPECT_EQ(keys.feedback(), "acme:feedback");
}

TEST(Lanes, AreHighDefaultAndBulkOnly) {
  EXPECT_TRUE(is_lane("high"));
  EXPECT_TRUE(is_lane("default"));
  EXPECT_TRUE(is_lane("bulk"));
  EXPECT_FALSE(is_lane("urgent"));
  EXPECT_FALSE(is_lane(""));
}

}  // namespace pushgw::queue
