// The rate limit and the circuit breaker, fed a clock of the test's own (no I/O, no sleeping).
#include "pushgw/dispatch/flow_control.hpp"

#include <gtest/gtest.h>

namespace pushgw::dispatch {
namespace {

using namespace std::chrono_literals;

const FlowClock::time_point kStart = FlowClock::time_point(1h);

// Sends started in [from, to) when each starts as soon as its reservation allows, offered
// `offered` per second.
std::size_t sends_started(SendRate& rate, FlowClock::time_point from, FlowClock::time_point to, double offered) {
  std::size_t started = 0;
  const auto gap = std::chrono::duration_cast<FlowClock::duration>(std::chrono::duration<double>(1.0 / offered));
  for (auto now = from; now < to; now += gap) {
    if (now + rate.reserve(now) < to) ++started;
  }
  return started;
}

TEST(SendRate, HoldsTheRateOverTenSecondsWhateverIsOffered) {
  for (const double limit : {100.0, 600000.0 / 60, 50000.0}) {
    SendRate rate(limit);
    const std::size_t started = sends_started(rate, kStart, kStart + 10s, limit * 5);
    EXPECT_NEAR(static_cast<double>(started), limit * 10, limit * 10 * 0.01) << limit;
  }
}

TEST(SendRate, BelowTheLimitNothingWaits) {
  SendRate rate(1000);
  for (auto now = kStart; now < kStart + 1s; now += 2ms) EXPECT_EQ(rate.reserve(now), FlowClock::duration::zero());
}

TEST(SendRate, IdlingEarnsAShortBurstNotAnHoursWorth) {
  SendRate rate(100);  // 10 ms apart; a burst of 50 ms' worth
  std::size_t at_once = 0;
  while (rate.reserve(kStart + 1h) == FlowClock::duration::zero()) ++at_once;
  EXPECT_GE(at_once, 5u);
  EXPECT_LE(at_once, 6u);
  // The next ones are spaced by the interval.
  EXPECT_GE(rate.reserve(kStart + 1h), 10ms);
}

config::BreakerConfig breaker_config() {
  config::BreakerConfig c;
  c.error_ratio = 0.5;
  c.min_requests = 100;
  c.open_for = 30s;
  c.window = 10s;
  return c;
}

TEST(Breaker, OpensWhenTheShareOfFailuresReachesTheRatioOverMinRequests) {
  Breaker breaker(breaker_config());
  EXPECT_TRUE(breaker.allow(kStart));
  breaker.record(kStart, 60, 59, false, false);  // too few sends yet to judge
  EXPECT_EQ(breaker.state(), BreakerState::closed);
  breaker.record(kStart + 1s, 60, 2, false, false);  // 61 of 120: over half
  EXPECT_EQ(breaker.state(), BreakerState::open);
  EXPECT_EQ(breaker.opened(), 1u);
  EXPECT_FALSE(breaker.allow(kStart + 2s));
  EXPECT_EQ(breaker.retry_at(kStart + 2s), kStart + 1s + 30s);
}

TEST(Breaker, SendsOlderThanTheWindowNoLongerCount) {
  Breaker old_failures(breaker_config());
  old_failures.record(kStart, 100, 49, false, false);
  EXPECT_EQ(old_failures.state(), BreakerState::closed);
  // 11 s later the first sends are out of the window: 31 of 60 (too few), not 80 of 160.
  old_failures.record(kStart + 11s, 60, 31, false, false);
  EXPECT_EQ(old_failures.state(), BreakerState::closed);

  Breaker old_successes(breaker_config());
  old_successes.record(kStart, 100, 0, false, false);
  // 60 of 100, not 60 of 200.
  old_successes.record(kStart + 11s, 100, 60, false, false);
  EXPECT_EQ(old_successes.state(), BreakerState::open);
}

TEST(Breaker, ACredentialsErrorOpensItAtOnce) {
  Breaker breaker(breaker_config());
  breaker.record(kStart, 1, 1, true, false);
  EXPECT_EQ(breaker.state(), BreakerState::open);
}

TEST(Breaker, HalfOpenLetsOneProbeThroughAndItsOutcomeDecides) {
  Breaker breaker(breaker_config());
  breaker.record(kStart, 100, 100, false, false);
  ASSERT_EQ(breaker.state(), BreakerState::open);
  EXPECT_FALSE(breaker.allow(kStart + 29s));
  EXPECT_TRUE(breaker.allow(kStart + 30s));  // the probe
  EXPECT_EQ(breaker.state(), BreakerState::half_open);
  EXPECT_FALSE(breaker.allow(kStart + 30s));  // the others wait for it
  EXPECT_GT(breaker.retry_at(kStart + 30s), kStart + 30s);
  breaker.record(kStart + 31s, 10, 9, false, true);  // the probe failed: open again
  EXPECT_EQ(breaker.state(), BreakerState::open);
  EXPECT_EQ(breaker.opened(), 2u);
  EXPECT_FALSE(breaker.allow(kStart + 60s));
  EXPECT_TRUE(breaker.allow(kStart + 61s));
  breaker.record(kStart + 62s, 10, 1, false, true);  // the probe went through: closed
  EXPECT_EQ(breaker.state(), BreakerState::closed);
  EXPECT_TRUE(breaker.allow(kStart + 62s));
  // Closed afresh: the failures before it do not count.
  breaker.record(kStart + 63s, 60, 60, false, false);
  EXPECT_EQ(breaker.state(), BreakerState::closed);
}

TEST(Breaker, AProbeThatSentNothingHandsTheProbeToTheNextJob) {
  Breaker breaker(breaker_config());
  breaker.record(kStart, 100, 100, false, false);
  ASSERT_TRUE(breaker.allow(kStart + 30s));
  breaker.record(kStart + 30s, 0, 0, false, true);
  EXPECT_EQ(breaker.state(), BreakerState::half_open);
  EXPECT_TRUE(breaker.allow(kStart + 30s));
}

TEST(Breaker, SendsThatStartedBeforeItOpenedDoNotMoveIt) {
  Breaker breaker(breaker_config());
  breaker.record(kStart, 100, 100, false, false);
  breaker.record(kStart + 1s, 100, 0, false, false);  // late answers of jobs sent before
  EXPECT_EQ(breaker.state(), BreakerState::open);
}

TEST(Breaker, ARatioOfZeroIsOff) {
  auto config = breaker_config();
  config.error_ratio = 0;
  Breaker breaker(config);
  breaker.record(kStart, 1000, 1000, true, false);
  EXPECT_EQ(breaker.state(), BreakerState::closed);
  EXPECT_TRUE(breaker.allow(kStart));
}

TEST(FlowControl, OnlyTransientAndCredentialFailuresCountAgainstTheProvider) {
  EXPECT_TRUE(is_provider_failure(job::OutcomeKind::retry));
  EXPECT_TRUE(is_provider_failure(job::OutcomeKind::credentials_error));
  EXPECT_FALSE(is_provider_failure(job::OutcomeKind::delivered));
  EXPECT_FALSE(is_provider_failure(job::OutcomeKind::token_dead));
  EXPECT_FALSE(is_provider_failure(job::OutcomeKind::rejected));
}

}  // namespace
}  // namespace pushgw::dispatch
