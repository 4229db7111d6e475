#include "pushgw/sim/stats.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace pushgw::sim {
namespace {

TEST(SimStats, CountsUniqueAndDuplicateDeliveries) {
  Stats stats;
  const auto a = delivery_key("aa", R"({"aps":{}})");
  const auto b = delivery_key("bb", R"({"aps":{}})");
  stats.response_sent(200, "", true, a);
  stats.response_sent(200, "", true, b);
  stats.response_sent(200, "", true, a);
  stats.response_sent(410, "Unregistered", false, 0);
  const auto s = stats.snapshot();
  EXPECT_EQ(s.unique, 2u);
  EXPECT_EQ(s.duplicates, 1u);
  EXPECT_EQ(s.by_status.at(200), 3u);
  EXPECT_EQ(s.by_status.at(410), 1u);
  EXPECT_EQ(s.by_reason.at("Unregistered"), 1u);
}

TEST(SimStats, DeliveryKeyDependsOnTokenAndPayload) {
  EXPECT_EQ(delivery_key("aa", "x"), delivery_key("aa", "x"));
  EXPECT_NE(delivery_key("aa", "x"), delivery_key("aa", "y"));
  EXPECT_NE(delivery_key("aa", "x"), delivery_key("ab", "x"));
  EXPECT_NE(delivery_key("a", "ax"), delivery_key("aa", "x"));  // hashed apart, not concatenated
}

TEST(SimStats, TracksConcurrency) {
  Stats stats;
  stats.stream_opened(1);
  stats.stream_opened(2);
  stats.stream_opened(1);
  stats.stream_closed();
  const auto s = stats.snapshot();
  EXPECT_EQ(s.max_inflight_seen, 3u);
  EXPECT_EQ(s.max_concurrent_streams_seen, 2u);
}

TEST(SimStats, JsonHasTheDocumentedFields) {
  Stats stats;
  stats.request_received();
  stats.response_sent(503, "ServiceUnavailable", false, 0);
  stats.connection_opened();
  const auto doc = nlohmann::json::parse(stats.to_json());
  EXPECT_EQ(doc["received"], 1);
  EXPECT_EQ(doc["unique"], 0);
  EXPECT_EQ(doc["duplicates"], 0);
  EXPECT_EQ(doc["by_status"]["503"], 1);
  EXPECT_EQ(doc["by_reason"]["ServiceUnavailable"], 1);
  EXPECT_EQ(doc["connections"], 1);
  EXPECT_EQ(doc["connections_open"], 1);
  EXPECT_TRUE(doc.contains("max_concurrent_streams_seen"));
  EXPECT_TRUE(doc.contains("max_inflight_seen"));
}

TEST(SimStats, ResetZeroesCountsButKeepsOpenConnections) {
  Stats stats;
  stats.connection_opened();
  stats.request_received();
  stats.response_sent(200, "", true, 1);
  stats.reset();
  const auto s = stats.snapshot();
  EXPECT_EQ(s.received, 0u);
  EXPECT_EQ(s.unique, 0u);
  EXPECT_TRUE(s.by_status.empty());
  EXPECT_EQ(s.connections_open, 1u);
  // A delivery after reset is unique again.
  stats.response_sent(200, "", true, 1);
  EXPECT_EQ(stats.snapshot().unique, 1u);
}

}  // namespace
}  // namespace pushgw::sim
