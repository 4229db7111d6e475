#include "pushgw/sim/stats.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>

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

TEST(SimKeyCounts, CountsEachKeyAndKeepsTheCountsWhenItGrows) {
  KeyCounts counts(16);
  EXPECT_EQ(counts.capacity(), 16u);
  // Keys that share their low bits, and 0, which is a key like any other.
  for (std::uint64_t k = 0; k < 1000; ++k) EXPECT_EQ(counts.add(k << 32), 1u);
  for (std::uint64_t k = 0; k < 1000; k += 2) EXPECT_EQ(counts.add(k << 32), 2u);
  EXPECT_EQ(counts.size(), 1000u);
  EXPECT_GE(counts.capacity(), 2000u);  // grew, at most half full
  for (std::uint64_t k = 0; k < 1000; ++k) EXPECT_EQ(counts.count(k << 32), k % 2 == 0 ? 2u : 1u) << k;
  EXPECT_EQ(counts.count(12345), 0u);
  counts.clear();
  EXPECT_EQ(counts.size(), 0u);
  EXPECT_EQ(counts.count(0), 0u);
  EXPECT_EQ(counts.add(0), 1u);
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

TEST(SimStats, BenchEnqueuedMsIsReadFromApnsAndFcmPayloads) {
  EXPECT_EQ(bench_enqueued_ms(R"({"aps":{},"bench_enqueued_ms":1700000000123})"), 1700000000123);
  EXPECT_EQ(bench_enqueued_ms(R"({"message":{"data":{"bench_enqueued_ms":"1700000000123"}}})"), 1700000000123);
  EXPECT_EQ(bench_enqueued_ms(R"({"aps":{}})"), 0);
  EXPECT_EQ(bench_enqueued_ms(R"({"bench_enqueued_ms":"soon"})"), 0);
}

TEST(SimStats, LatencyPercentilesComeFromDeliveriesThatCarryAnEnqueueTime) {
  Stats stats;
  const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch()).count();
  for (int i = 0; i < 100; ++i) stats.response_sent(200, "", true, delivery_key("t", std::to_string(i)), now_ms - 1000);
  stats.response_sent(200, "", true, delivery_key("u", "x"));         // no enqueue time: not a sample
  stats.response_sent(503, "", false, 0, now_ms - 5000);              // not delivered: not a sample
  const auto s = stats.snapshot();
  EXPECT_EQ(s.latency_ms.count, 100u);
  EXPECT_GE(s.latency_ms.p50, 1000);
  EXPECT_LT(s.latency_ms.max, 1000 + 60000);  // a hang guard, not a timing check
  const auto doc = nlohmann::json::parse(stats.to_json());
  EXPECT_EQ(doc["latency_ms"]["count"], 100);
  stats.reset();
  EXPECT_EQ(stats.snapshot().latency_ms.count, 0u);
}

TEST(SimStats, PercentilesAreTheSortedSamplesAtTheirRank) {
  // Latencies of 1, 2, ..., 100 s (whole seconds apart, so the few ms the loop takes cannot
  // move a sample across a rank): p50 is the 51st smallest, p90 the 90th, p99 the 99th.
  Stats stats;
  const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch()).count();
  for (int k = 100; k >= 1; --k) {
    stats.response_sent(200, "", true, delivery_key("t", std::to_string(k)), now_ms - k * 1000);
  }
  const auto s = stats.snapshot();
  EXPECT_EQ(s.latency_ms.count, 100u);
  const auto near = [](double value, double expected) { return value >= expected && value < expected + 1000; };
  EXPECT_PRED2(near, s.latency_ms.p50, 51000);
  EXPECT_PRED2(near, s.latency_ms.p90, 90000);
  EXPECT_PRED2(near, s.latency_ms.p99, 99000);
  EXPECT_PRED2(near, s.latency_ms.max, 100000);
  // The last answer was just now; an undelivered one does not move it.
  EXPECT_GE(s.last_delivery_unix_ms, now_ms);
  EXPECT_LT(s.last_delivery_unix_ms, now_ms + 60000);  // a hang guard, not a timing check
  stats.response_sent(503, "", false, 0, now_ms);
  EXPECT_EQ(stats.snapshot().last_delivery_unix_ms, s.last_delivery_unix_ms);
  EXPECT_EQ(nlohmann::json::parse(stats.to_json())["last_delivery_unix_ms"], s.last_delivery_unix_ms);
  stats.reset();
  EXPECT_EQ(stats.snapshot().last_delivery_unix_ms, 0);
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
