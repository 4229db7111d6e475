#include "pushgw/queue/held_elements.hpp"

#include <gtest/gtest.h>

namespace pushgw::queue {
namespace {

using Elements = std::vector<std::string>;

TEST(HeldElements, HeldElementsAreNeverStranded) {
  HeldElements held;
  held.hold(Lane::default_lane(), {"a", "b"});
  EXPECT_EQ(held.stranded(Lane::default_lane(), {"a", "b"}), Elements{});
  EXPECT_EQ(held.stranded(Lane::default_lane(), {"a", "b"}), Elements{});
}

TEST(HeldElements, AnElementNobodyHoldsIsStrandedOnlyWhenSeenTwiceInARow) {
  HeldElements held;
  held.hold(Lane::high(), {"a"});
  EXPECT_EQ(held.stranded(Lane::high(), {"a", "lost"}), Elements{});  // maybe a reply on its way
  EXPECT_EQ(held.stranded(Lane::high(), {"a", "lost"}), Elements{"lost"});
  held.returned(Lane::high());
  EXPECT_EQ(held.stranded(Lane::high(), {"a"}), Elements{});
}

TEST(HeldElements, AnElementTakenBetweenTwoCallsIsNotStranded) {
  HeldElements held;
  EXPECT_EQ(held.stranded(Lane::bulk(), {"x"}), Elements{});
  held.hold(Lane::bulk(), {"x"});  // its take's reply arrived
  EXPECT_EQ(held.stranded(Lane::bulk(), {"x"}), Elements{});
}

TEST(HeldElements, CopiesAreCountedAndReleasedOneAtATime) {
  HeldElements held;
  held.hold(Lane::default_lane(), {"same", "same"});
  const Elements three{"same", "same", "same"};
  EXPECT_EQ(held.stranded(Lane::default_lane(), three), Elements{});
  EXPECT_EQ(held.stranded(Lane::default_lane(), three), Elements{"same"});  // one copy too many
  held.release(Lane::default_lane(), "same");                               // one acked
  EXPECT_EQ(held.stranded(Lane::default_lane(), three), (Elements{"same"}));  // at most the surplus seen before
  EXPECT_EQ(held.stranded(Lane::default_lane(), three), (Elements{"same", "same"}));
}

TEST(HeldElements, LanesAreKeptApart) {
  HeldElements held;
  held.hold(Lane::high(), {"a"});
  EXPECT_EQ(held.stranded(Lane::bulk(), {"a"}), Elements{});
  EXPECT_EQ(held.stranded(Lane::bulk(), {"a"}), Elements{"a"});  // held in high, not in bulk
  EXPECT_EQ(held.stranded(Lane::high(), {"a"}), Elements{});
  EXPECT_EQ(held.stranded(Lane::high(), {"a"}), Elements{});
}

}  // namespace
}  // namespace pushgw::queue
