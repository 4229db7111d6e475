#include "pushgw/job/split.hpp"

#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "job/fixtures.hpp"

namespace pushgw::job {
namespace {

using pushgw::testing::ios_token;

Notification with_tokens(std::size_t count) {
  Notification n;
  n.platform = Platform::ios;
  for (std::size_t i = 0; i < count; ++i) n.tokens.push_back(ios_token(i));
  n.title = "t";
  return n;
}

// "job-0", "job-1", ...
JobIdSource counter() {
  return [next = 0]() mutable { return "job-" + std::to_string(next++); };
}

std::vector<std::size_t> sizes(const std::vector<Notification>& jobs) {
  std::vector<std::size_t> out;
  for (const auto& j : jobs) out.push_back(j.tokens.size());
  return out;
}

TEST(Split, ChunksKeepTokenOrder) {
  const auto n = with_tokens(1201);
  const auto jobs = split_into_jobs(n, 500, counter(), 1000);
  EXPECT_EQ(sizes(jobs), (std::vector<std::size_t>{500, 500, 201}));
  std::vector<std::string> joined;
  for (const auto& j : jobs) joined.insert(joined.end(), j.tokens.begin(), j.tokens.end());
  EXPECT_EQ(joined, n.tokens);
}

TEST(Split, ExactMultiplesAndSmallNotifications) {
  EXPECT_EQ(sizes(split_into_jobs(with_tokens(1000), 500, counter(), 0)),
            (std::vector<std::size_t>{500, 500}));
  EXPECT_EQ(sizes(split_into_jobs(with_tokens(3), 500, counter(), 0)), (std::vector<std::size_t>{3}));
  EXPECT_EQ(sizes(split_into_jobs(with_tokens(3), 1, counter(), 0)),
            (std::vector<std::size_t>{1, 1, 1}));
  // 0 would never make progress; it counts as 1.
  EXPECT_EQ(sizes(split_into_jobs(with_tokens(2), 0, counter(), 0)), (std::vector<std::size_t>{1, 1}));
}

TEST(Split, EachJobGetsMetaAndTheRestOfTheNotification) {
  auto n = pushgw::testing::full_notification();
  n.job.reset();
  n.id.reset();
  n.tokens = with_tokens(3).tokens;
  const auto jobs = split_into_jobs(n, 2, counter(), 12345);
  ASSERT_EQ(jobs.size(), 2u);
  for (std::size_t k = 0; k < jobs.size(); ++k) {
    ASSERT_TRUE(jobs[k].job);
    EXPECT_EQ(*jobs[k].job, (JobMeta{"job-" + std::to_string(k), 12345, 0, 0}));
    auto rest = jobs[k];
    rest.tokens = n.tokens;
    rest.job.reset();
    EXPECT_EQ(rest, n) << "job " << k << " lost or changed a field";
  }
}

TEST(Split, FillsInTheEffectiveApp) {
  auto n = with_tokens(2);
  EXPECT_EQ(split_into_jobs(n, 1, counter(), 0, "demo")[1].app, "demo");
  n.app = "kept";
  EXPECT_EQ(split_into_jobs(n, 1, counter(), 0)[0].app, "kept");
}

TEST(Split, DerivesOneIdempotencyKeyPerJob) {
  auto n = with_tokens(5);
  n.id = "order-77";
  const auto jobs = split_into_jobs(n, 2, counter(), 0);
  ASSERT_EQ(jobs.size(), 3u);
  EXPECT_EQ(jobs[0].id, "order-77#0");
  EXPECT_EQ(jobs[1].id, "order-77#1");
  EXPECT_EQ(jobs[2].id, "order-77#2");
  // Deterministic: splitting again gives the same keys.
  const auto again = split_into_jobs(n, 2, counter(), 99);
  for (std::size_t k = 0; k < jobs.size(); ++k) EXPECT_EQ(again[k].id, jobs[k].id);
  // One job keeps the producer's key as is; no key stays no key.
  EXPECT_EQ(split_into_jobs(n, 5, counter(), 0)[0].id, "order-77");
  n.id.reset();
  EXPECT_FALSE(split_into_jobs(n, 2, counter(), 0)[0].id);
}

TEST(Split, JobIdsAreUnique) {
  const auto jobs = split_into_jobs(with_tokens(1000), 1, random_job_id, 0);
  std::set<std::string> ids;
  for (const auto& j : jobs) ids.insert(j.job->id);
  EXPECT_EQ(ids.size(), 1000u);
}

TEST(Split, RandomJobIdsAre128BitHex) {
  std::set<std::string> ids;
  for (int i = 0; i < 10000; ++i) {
    const auto id = random_job_id();
    ASSERT_EQ(id.size(), 32u);
    ASSERT_EQ(id.find_first_not_of("0123456789abcdef"), std::string::npos) << id;
    ids.insert(id);
  }
  EXPECT_EQ(ids.size(), 10000u);
}

}  // namespace
}  // namespace pushgw::job
