#include "pushgw/queue/lane.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace pushgw::queue {
namespace {

TEST(Lane, AllListsTheLanesHighestPriorityFirst) {
  const auto lanes = Lane::all();
  ASSERT_EQ(lanes.size(), Lane::kCount);
  EXPECT_EQ(lanes[0], Lane::high());
  EXPECT_EQ(lanes[1], Lane::default_lane());
  EXPECT_EQ(lanes[2], Lane::bulk());
  EXPECT_EQ(Lane::high().name(), "high");
  EXPECT_EQ(Lane::default_lane().name(), "default");
  EXPECT_EQ(Lane::bulk().name(), "bulk");
  for (std::size_t i = 0; i < lanes.size(); ++i) EXPECT_EQ(lanes[i].index(), i);
  EXPECT_NE(Lane::high(), Lane::bulk());
}

TEST(Lane, ParsesEachLanesName) {
  for (const Lane lane : Lane::all()) {
    const auto parsed = Lane::parse(lane.name());
    ASSERT_TRUE(std::holds_alternative<Lane>(parsed)) << lane.name();
    EXPECT_EQ(std::get<Lane>(parsed), lane);
  }
}

TEST(Lane, RejectsAnyOtherNameWithAMessageThatQuotesItAndNamesTheLanes) {
  for (const char* name : {"urgent", "", "High", "default ", "bulk\n"}) {
    const auto parsed = Lane::parse(name);
    ASSERT_TRUE(std::holds_alternative<LaneError>(parsed)) << name;
    const std::string& message = std::get<LaneError>(parsed).message;
    EXPECT_THAT(message, ::testing::StartsWith("unknown lane \"")) << message;
    EXPECT_THAT(message, ::testing::HasSubstr(R"(must be "high", "default" or "bulk")"));
  }
  EXPECT_THAT(std::get<LaneError>(Lane::parse("urgent")).message, ::testing::HasSubstr("\"urgent\""));
}

}  // namespace
}  // namespace pushgw::queue
