#include "pushgw/queue/keys.hpp"

#include <gtest/gtest.h>

namespace pushgw::queue {
namespace {

TEST(Keys, FollowTheDesignedNamesWithOneHashTagPerLane) {
  Keys keys;
  EXPECT_EQ(keys.lane(Lane::default_lane()).queue, "pushgw:{default}:queue");
  EXPECT_EQ(keys.lane(Lane::bulk()).retry, "pushgw:{bulk}:retry");
  EXPECT_EQ(keys.lane(Lane::default_lane()).dead, "pushgw:{default}:dead");
  EXPECT_EQ(keys.processing(Lane::high(), "pod-1"), "pushgw:{high}:processing:pod-1");
  EXPECT_EQ(keys.instance("pod-1"), "pushgw:instance:pod-1");
  EXPECT_EQ(keys.instances(), "pushgw:instances");
  EXPECT_EQ(keys.reaper_lease(), "pushgw:reaper");
  EXPECT_EQ(keys.idempotency("demo", "order-42"), "pushgw:idempotency:demo:order-42");
  EXPECT_EQ(keys.feedback().inactive("demo", "ios"), "pushgw:inactive:demo:ios");
  EXPECT_EQ(keys.feedback().events(), "pushgw:feedback");
}

TEST(Keys, EveryLaneHasItsOwnFixedKeys) {
  Keys keys;
  for (const Lane lane : Lane::all()) {
    const std::string tag = "pushgw:{" + std::string(lane.name()) + "}:";
    EXPECT_EQ(keys.lane(lane).queue, tag + "queue");
    EXPECT_EQ(keys.lane(lane).retry, tag + "retry");
    EXPECT_EQ(keys.lane(lane).dead, tag + "dead");
  }
}

TEST(Keys, UseTheConfiguredPrefix) {
  Keys keys("acme");
  EXPECT_EQ(keys.prefix(), "acme");
  EXPECT_EQ(keys.lane(Lane::bulk()).queue, "acme:{bulk}:queue");
  EXPECT_EQ(keys.processing(Lane::bulk(), "p"), "acme:{bulk}:processing:p");
  EXPECT_EQ(keys.reaper_lease(), "acme:reaper");
  EXPECT_EQ(keys.feedback().events(), "acme:feedback");
  EXPECT_EQ(keys.feedback().inactive("a", "android"), "acme:inactive:a:android");
}

}  // namespace
}  // namespace pushgw::queue
