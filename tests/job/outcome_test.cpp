#include "pushgw/job/outcome.hpp"

#include <gtest/gtest.h>

namespace pushgw::job {
namespace {

TEST(Outcome, KindNames) {
  // These names are metric label values (jobs_total{outcome}); they must not drift.
  EXPECT_EQ(to_string(OutcomeKind::delivered), "delivered");
  EXPECT_EQ(to_string(OutcomeKind::retry), "retry");
  EXPECT_EQ(to_string(OutcomeKind::token_dead), "token_dead");
  EXPECT_EQ(to_string(OutcomeKind::rejected), "rejected");
  EXPECT_EQ(to_string(OutcomeKind::credentials_error), "credentials_error");
}

}  // namespace
}  // namespace pushgw::job
