#include "pushgw/dispatch/plan.hpp"

#include <gtest/gtest.h>

namespace pushgw::dispatch {

using job::OutcomeKind;
using namespace std::chrono_literals;

job::SendOutcome outcome(OutcomeKind kind, int status = 0, std::string reason = {}) {
  job::SendOutcome o;
  o.kind = kind;
  o.status = status;
  o.reason = std::move(reason);
  return o;
}

job::Notification notification(int attempt) {
  job::Notification n;
  n.app = "demo";
  n.tokens = {"t1", "t2", "t3", "t4", "t5"};
  n.title = "hello";
  n.job.emplace();
  n.job->id = "job-1";
  n.job->attempt = attempt;
  return n;
}

config::RetriesConfig retries() {
  config::RetriesConfig r;
  r.max_attempts = 3;
  r.backoff_min = 1s;
  r.backoff_max = 60s;
  return r;
}

constexpr std::int64_t kNow = 1'000'000;

TEST(Plan, SortsEveryOutcomeIntoItsPlace) {
  const std::vector<TokenResult> results = {
      {"t1", outcome(OutcomeKind::delivered, 200)},
      {"t2", outcome(OutcomeKind::token_dead, 410, "Unregistered")},
      {"t3", outcome(OutcomeKind::rejected, 400, "BadPriority")},
      {"t4", outcome(OutcomeKind::retry, 503, "ServiceUnavailable")},
      {"t5", outcome(OutcomeKind::delivered, 200)},
  };
  const Plan plan = plan_after_sends(notification(0), results, retries(), kNow, 0.5);
  EXPECT_EQ(plan.delivered, 2u);
  ASSERT_EQ(plan.dead_tokens.size(), 1u);
  EXPECT_EQ(plan.dead_tokens[0].token, "t2");
  EXPECT_EQ(plan.dead_tokens[0].reason, "Unregistered");
  EXPECT_EQ(plan.dead_tokens[0].at_ms, kNow);
  ASSERT_EQ(plan.dead.size(), 1u);
  EXPECT_EQ(plan.dead[0].reason, queue::DeadReason::rejected);
  EXPECT_EQ(plan.dead[0].job.tokens, std::vector<std::string>{"t3"});
  EXPECT_EQ(plan.dead[0].error, "provider rejected it: HTTP 400 BadPriority");
  ASSERT_EQ(plan.retries.size(), 1u);
  const RetryJob& retry = plan.retries[0];
  EXPECT_EQ(retry.job.tokens, std::vector<std::string>{"t4"});
  EXPECT_EQ(retry.job.job->attempt, 1);
  EXPECT_EQ(retry.job.job->id, "job-1");  // same job: its idempotency claim still holds
  EXPECT_EQ(retry.job.title, "hello");
  EXPECT_EQ(retry.due_ms, kNow + 1000);
}

TEST(Plan, RetryDelayGrowsWithTheAttemptAndHonoursRetryAfter) {
  std::vector<TokenResult> results = {{"t1", outcome(OutcomeKind::retry, 429, "TooManyRequests")}};
  EXPECT_EQ(plan_after_sends(notification(1), results, retries(), kNow, 0.5).retries.at(0).due_ms, kNow + 2000);
  results[0].outcome.retry_after = 30s;
  const Plan plan = plan_after_sends(notification(1), results, retries(), kNow, 0.5);
  EXPECT_EQ(plan.retries.at(0).due_ms, kNow + 30000);
  EXPECT_EQ(plan.retries.at(0).job.job->attempt, 2);
}

TEST(Plan, GivesUpAfterMaxAttemptsWithTheLastReason) {
  const std::vector<TokenResult> results = {{"t1", outcome(OutcomeKind::retry, 503, "ServiceUnavailable")}};
  const Plan plan = plan_after_sends(notification(2), results, retries(), kNow, 0.5);  // 3rd send failed
  EXPECT_TRUE(plan.retries.empty());
  ASSERT_EQ(plan.dead.size(), 1u);
  EXPECT_EQ(plan.dead[0].reason, queue::DeadReason::retries_exhausted);
  EXPECT_EQ(plan.dead[0].error, "gave up after 3 attempt(s) (retries.max_attempts); last: HTTP 503 ServiceUnavailable");
}

TEST(Plan, ARetryDueAfterTheExpirationIsDeadLetteredAsExpired) {
  job::Notification n = notification(0);
  n.expiration = kNow / 1000;  // passes before now + 1 s
  const std::vector<TokenResult> results = {{"t1", outcome(OutcomeKind::retry, 0, "timeout")}};
  const Plan plan = plan_after_sends(n, results, retries(), kNow, 0.5);
  EXPECT_TRUE(plan.retries.empty());
  ASSERT_EQ(plan.dead.size(), 1u);
  EXPECT_EQ(plan.dead[0].reason, queue::DeadReason::expired);
}

TEST(Plan, CredentialErrorsWaitTheLongestBackoffWithoutUsingAnAttempt) {
  const std::vector<TokenResult> results = {{"t1", outcome(OutcomeKind::credentials_error, 403, "InvalidProviderToken")}};
  const Plan plan = plan_after_sends(notification(2), results, retries(), kNow, 0.5);
  EXPECT_TRUE(plan.dead.empty());
  ASSERT_EQ(plan.retries.size(), 1u);
  EXPECT_EQ(plan.retries[0].job.job->attempt, 2);
  EXPECT_EQ(plan.retries[0].due_ms, kNow + 60000);
}

TEST(Plan, RejectionsAreGroupedByReason) {
  const std::vector<TokenResult> results = {
      {"t1", outcome(OutcomeKind::rejected, 400, "BadPriority")},
      {"t2", outcome(OutcomeKind::rejected, 413, "PayloadTooLarge")},
      {"t3", outcome(OutcomeKind::rejected, 400, "BadPriority")},
  };
  const Plan plan = plan_after_sends(notification(0), results, retries(), kNow, 0.5);
  ASSERT_EQ(plan.dead.size(), 2u);
  EXPECT_EQ(plan.dead[0].job.tokens, (std::vector<std::string>{"t1", "t3"}));
  EXPECT_EQ(plan.dead[1].job.tokens, std::vector<std::string>{"t2"});
}

TEST(Plan, AParkedNotificationWaitsWithoutAnAttemptUnlessItExpiresFirst) {
  const Plan parked = plan_parked(notification(3), {"t2", "t4"}, kNow + 30000, "the ios circuit breaker is open");
  ASSERT_EQ(parked.retries.size(), 1u);
  EXPECT_TRUE(parked.dead.empty());
  EXPECT_EQ(parked.retries[0].job.tokens, (std::vector<std::string>{"t2", "t4"}));
  EXPECT_EQ(parked.retries[0].job.job->attempt, 3);
  EXPECT_EQ(parked.retries[0].job.job->id, "job-1");
  EXPECT_EQ(parked.retries[0].due_ms, kNow + 30000);

  auto expiring = notification(0);
  expiring.expiration = kNow / 1000 + 10;  // before the breaker closes
  const Plan expired = plan_parked(expiring, {"t1"}, kNow + 30000, "the ios circuit breaker is open");
  EXPECT_TRUE(expired.retries.empty());
  ASSERT_EQ(expired.dead.size(), 1u);
  EXPECT_EQ(expired.dead[0].reason, queue::DeadReason::expired);
  EXPECT_NE(expired.dead[0].error.find("circuit breaker"), std::string::npos) << expired.dead[0].error;
}

// A topic, condition or broadcast channel has no dead token to mark: what would mark one is a
// refusal of the notification there.
TEST(Plan, NothingIsADeadTokenForATopic) {
  job::Notification n;
  n.platform = job::Platform::android;
  n.target = job::Target::fcm_topic;
  n.tokens = {"news"};
  job::SendOutcome dead;
  dead.kind = OutcomeKind::token_dead;
  dead.status = 404;
  dead.reason = "UNREGISTERED";
  const Plan plan = plan_after_sends(n, {{"news", dead}}, config::RetriesConfig{}, 1000, 0.5);
  EXPECT_TRUE(plan.dead_tokens.empty());
  ASSERT_EQ(plan.dead.size(), 1u);
  EXPECT_EQ(plan.dead[0].reason, queue::DeadReason::rejected);
  EXPECT_EQ(plan.dead[0].job.target, job::Target::fcm_topic);
  EXPECT_EQ(plan.dead[0].job.tokens, std::vector<std::string>{"news"});
}

TEST(Describe, NamesStatusAndReason) {
  EXPECT_EQ(describe(outcome(OutcomeKind::retry, 503, "ServiceUnavailable")), "HTTP 503 ServiceUnavailable");
  EXPECT_EQ(describe(outcome(OutcomeKind::retry, 0, "timeout")), "timeout");
  EXPECT_EQ(describe(outcome(OutcomeKind::retry)), "retry");
}

}  // namespace pushgw::dispatch
