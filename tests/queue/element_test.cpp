#include "pushgw/queue/element.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <variant>

#include "pushgw/job/codec.hpp"

namespace pushgw::queue {

using nlohmann::json;

const std::string kToken(64, 'a');
const std::string kProducerJob = R"({"platform":"ios","tokens":[")" + kToken + R"("],"title":"hi"})";

TEST(ElementJobId, IsStableHexAndDiffersPerText) {
  const auto id = element_job_id(kProducerJob);
  EXPECT_EQ(id.size(), 32u);
  EXPECT_EQ(id.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_EQ(element_job_id(kProducerJob), id);
  EXPECT_NE(element_job_id(kProducerJob + " "), id);
}

TEST(MarkRedelivered, AddsJobMetaWithTheDerivedIdToAProducerElement) {
  const Redelivery r = mark_redelivered(kProducerJob, 5);
  EXPECT_FALSE(r.exhausted);
  EXPECT_EQ(r.redeliveries, 1);
  auto decoded = job::decode_job_string(r.element);
  ASSERT_TRUE(std::holds_alternative<std::vector<job::Notification>>(decoded));
  const auto& n = std::get<std::vector<job::Notification>>(decoded).at(0);
  ASSERT_TRUE(n.job);
  EXPECT_EQ(n.job->id, element_job_id(kProducerJob));
  EXPECT_EQ(n.job->redeliveries, 1);
  EXPECT_EQ(n.title, "hi");
}

TEST(MarkRedelivered, CountsUpAndIsExhaustedPastTheLimit) {
  Redelivery r{kProducerJob, 0, false};
  for (int i = 1; i <= 3; ++i) {
    r = mark_redelivered(r.element, 2);
    EXPECT_EQ(r.redeliveries, i);
    EXPECT_EQ(r.exhausted, i > 2) << i;
  }
  // The id stays the one derived from the original text, whatever the rewrites.
  auto decoded = std::get<std::vector<job::Notification>>(job::decode_job_string(r.element));
  EXPECT_EQ(decoded.at(0).job->id, element_job_id(kProducerJob));
}

TEST(MarkRedelivered, MarksEveryNotificationOfABody) {
  const std::string body = R"({"notifications":[)" + kProducerJob + "," + kProducerJob + "]}";
  const Redelivery r = mark_redelivered(body, 5);
  auto decoded = std::get<std::vector<job::Notification>>(job::decode_job_string(r.element));
  ASSERT_EQ(decoded.size(), 2u);
  EXPECT_EQ(decoded[0].job->id, element_job_id(body) + "#0");
  EXPECT_EQ(decoded[1].job->id, element_job_id(body) + "#1");
  EXPECT_EQ(decoded[1].job->redeliveries, 1);
}

TEST(MarkRedelivered, LeavesAnUndecodableElementAsItIs) {
  const Redelivery r = mark_redelivered("{not json", 5);
  EXPECT_EQ(r.element, "{not json");
  EXPECT_FALSE(r.exhausted);
}

TEST(DeadLetterEntry, CarriesTheJobAsJsonOrTheRawText) {
  DeadLetter letter;
  letter.reason = DeadReason::retries_exhausted;
  letter.error = "gave up after 3 attempt(s)";
  letter.lane = "default";
  letter.instance = "pod-1";
  letter.at_ms = 1234;
  const json entry = json::parse(dead_letter_entry(kProducerJob, letter));
  EXPECT_EQ(entry["reason"], "retries_exhausted");
  EXPECT_EQ(entry["error"], "gave up after 3 attempt(s)");
  EXPECT_EQ(entry["lane"], "default");
  EXPECT_EQ(entry["instance"], "pod-1");
  EXPECT_EQ(entry["at"], 1234);
  EXPECT_EQ(entry["job"]["title"], "hi");
  EXPECT_FALSE(entry.contains("raw"));

  letter.reason = DeadReason::malformed;
  const json raw = json::parse(dead_letter_entry("{not json", letter));
  EXPECT_EQ(raw["reason"], "malformed");
  EXPECT_EQ(raw["raw"], "{not json");
  EXPECT_FALSE(raw.contains("job"));
}

TEST(DeadReason, NamesAreTheMetricLabels) {
  EXPECT_EQ(to_string(DeadReason::malformed), "malformed");
  EXPECT_EQ(to_string(DeadReason::invalid), "invalid");
  EXPECT_EQ(to_string(DeadReason::rejected), "rejected");
  EXPECT_EQ(to_string(DeadReason::retries_exhausted), "retries_exhausted");
  EXPECT_EQ(to_string(DeadReason::redelivered), "redelivered");
  EXPECT_EQ(to_string(DeadReason::expired), "expired");
}

}  // namespace pushgw::queue
