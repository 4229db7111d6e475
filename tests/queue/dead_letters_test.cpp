// queue/dead_letters without I/O: reading entries, the element a replay puts back, filters.
// (Against Redis: tests/app/dlq_command_test.cpp runs `pushgw dlq`.)
#include "pushgw/queue/dead_letters.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace pushgw::queue {
namespace {

using nlohmann::json;

TEST(DeadEntry, ReadsWhatTheDispatcherWroteAndResetsTheJobsAttempts) {
  DeadLetter letter{DeadReason::rejected, "BadTopic", "high", "pod-1", 1733000000000};
  const std::string element =
      R"({"platform":"ios","tokens":["aa"],"job":{"id":"j1","enqueued_ms":5,"attempt":4,"redeliveries":2}})";
  const DeadEntry e = read_dead_entry(dead_letter_entry(element, letter));
  EXPECT_EQ(e.reason, "rejected");
  EXPECT_EQ(e.error, "BadTopic");
  EXPECT_EQ(e.lane, "high");
  EXPECT_EQ(e.at_ms, 1733000000000);
  EXPECT_EQ(e.job_id, "j1");
  ASSERT_TRUE(e.replay) << e.unreadable;
  const json replay = json::parse(*e.replay);
  EXPECT_EQ(replay["job"], json({{"id", "j1"}, {"enqueued_ms", 5}, {"attempt", 0}, {"redeliveries", 0}}));
  EXPECT_EQ(replay["tokens"], json({"aa"}));
}

TEST(DeadEntry, AJobThatCannotBeReadIsListedButNotReplayable) {
  DeadLetter letter{DeadReason::malformed, "not JSON", "default", "pod-1", 1};
  const DeadEntry raw = read_dead_entry(dead_letter_entry("{oops", letter));
  EXPECT_FALSE(raw.replay);
  EXPECT_NE(raw.unreadable.find("raw"), std::string::npos) << raw.unreadable;
  const DeadEntry bad_job = read_dead_entry(dead_letter_entry(R"({"platform":"fax","tokens":["a"]})", letter));
  EXPECT_FALSE(bad_job.replay);
  EXPECT_NE(bad_job.unreadable.find("platform"), std::string::npos) << bad_job.unreadable;
  const DeadEntry junk = read_dead_entry("not an entry");
  EXPECT_EQ(junk.text, "not an entry");
  EXPECT_FALSE(junk.replay);
}

TEST(DeadFilter, ByReason) {
  DeadEntry e;
  e.reason = "expired";
  EXPECT_TRUE(DeadFilter{}.matches(e));
  EXPECT_TRUE((DeadFilter{DeadReason::expired, 0}).matches(e));
  EXPECT_FALSE((DeadFilter{DeadReason::invalid, 0}).matches(e));
  EXPECT_EQ(parse_dead_reason("retries_exhausted"), DeadReason::retries_exhausted);
  EXPECT_EQ(parse_dead_reason("nope"), std::nullopt);
}

}  // namespace
}  // namespace pushgw::queue
