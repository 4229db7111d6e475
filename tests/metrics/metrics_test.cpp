#include "pushgw/metrics/metrics.hpp"

#include <gtest/gtest.h>
#include <prometheus/metric_family.h>
#include <prometheus/registry.h>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace pushgw::metrics {
namespace {

TEST(Counter, RendersHelpTypeAndSeriesSortedByLabels) {
  Registry registry;
  auto& requests = registry.counter("http_requests_total", "HTTP requests.", {"route", "code"});
  requests.with({"/push", "202"}).inc();
  requests.with({"/push", "202"}).inc(2);
  requests.with({"/push", "400"}).inc(0.5);
  requests.with({"/healthz", "200"}).inc();

  // prometheus-cpp writes labels in name order; series are sorted by those labels.
  EXPECT_EQ(registry.render(),
            "# HELP http_requests_total HTTP requests.\n"
            "# TYPE http_requests_total counter\n"
            "http_requests_total{code=\"200\",route=\"/healthz\"} 1\n"
            "http_requests_total{code=\"202\",route=\"/push\"} 3\n"
            "http_requests_total{code=\"400\",route=\"/push\"} 0.5\n");
}

TEST(Counter, RejectsNegativeAndNaNIncrements) {
  Registry registry;
  Counter& counter = registry.counter("c_total", "x").get();
  EXPECT_THROW(counter.inc(-1), std::invalid_argument);
  EXPECT_THROW(counter.inc(std::nan("")), std::invalid_argument);
  counter.inc(0);
  EXPECT_EQ(counter.value(), 0);
}

TEST(Gauge, SetIncDecAndRenderWithoutLabels) {
  Registry registry;
  Gauge& depth = registry.gauge("queue_depth", "Jobs waiting.").get();
  depth.set(10);
  depth.inc();
  depth.dec(3.5);
  EXPECT_DOUBLE_EQ(depth.value(), 7.5);
  EXPECT_EQ(registry.render(),
            "# HELP queue_depth Jobs waiting.\n"
            "# TYPE queue_depth gauge\n"
            "queue_depth 7.5\n");
}

TEST(Histogram, RendersCumulativeBucketsSumAndCount) {
  Registry registry;
  auto& durations = registry.histogram("send_duration_seconds", "Send time.", {"platform"}, {0.25, 0.5, 1});
  Histogram& ios = durations.with({"ios"});
  ios.observe(0.125);
  ios.observe(0.25);  // on a bound: counts in that bucket (le = less or equal)
  ios.observe(0.375);
  ios.observe(2);
  durations.with({"android"}).observe(0.75);

  EXPECT_EQ(registry.render(),
            "# HELP send_duration_seconds Send time.\n"
            "# TYPE send_duration_seconds histogram\n"
            "send_duration_seconds_count{platform=\"android\"} 1\n"
            "send_duration_seconds_sum{platform=\"android\"} 0.75\n"
            "send_duration_seconds_bucket{platform=\"android\",le=\"0.25\"} 0\n"
            "send_duration_seconds_bucket{platform=\"android\",le=\"0.5\"} 0\n"
            "send_duration_seconds_bucket{platform=\"android\",le=\"1\"} 1\n"
            "send_duration_seconds_bucket{platform=\"android\",le=\"+Inf\"} 1\n"
            "send_duration_seconds_count{platform=\"ios\"} 4\n"
            "send_duration_seconds_sum{platform=\"ios\"} 2.75\n"
            "send_duration_seconds_bucket{platform=\"ios\",le=\"0.25\"} 2\n"
            "send_duration_seconds_bucket{platform=\"ios\",le=\"0.5\"} 3\n"
            "send_duration_seconds_bucket{platform=\"ios\",le=\"1\"} 3\n"
            "send_duration_seconds_bucket{platform=\"ios\",le=\"+Inf\"} 4\n");
}

TEST(Histogram, SnapshotIsCumulativeAndNaNGoesToInf) {
  Registry registry;
  Histogram& h = registry.histogram("h_seconds", "h", {}, {1, 2, 3}).get();
  for (double v : {0.5, 1.5, 1.7, 2.5, 2.6, 2.7, 9.0}) h.observe(v);
  h.observe(std::nan(""));
  const Histogram::Snapshot s = h.snapshot();
  EXPECT_EQ(s.bounds, (std::vector<double>{1, 2, 3}));
  EXPECT_EQ(s.cumulative, (std::vector<std::uint64_t>{1, 3, 6, 8}));
  EXPECT_EQ(s.count, 8u);
  EXPECT_TRUE(std::isinf(s.sum));
}

TEST(Histogram, RejectsBadBuckets) {
  Registry registry;
  EXPECT_THROW(registry.histogram("h_seconds", "h", {}, {1, 1}), std::invalid_argument);
  EXPECT_THROW(registry.histogram("h_seconds", "h", {}, {0.5, 0.1}), std::invalid_argument);
  EXPECT_THROW(registry.histogram("h_seconds", "h", {}, {1, std::numeric_limits<double>::infinity()}),
               std::invalid_argument);
  EXPECT_THROW(registry.histogram("h_seconds", "h", {}, {std::nan("")}), std::invalid_argument);
  EXPECT_THROW(registry.histogram("h_seconds", "h", {"le"}), std::invalid_argument);
  // Nothing half-registered by the failures above.
  EXPECT_EQ(registry.render(), "");
}

TEST(Histogram, DefaultDurationBucketsAreIncreasing) {
  const std::vector<double> b = duration_buckets();
  ASSERT_FALSE(b.empty());
  EXPECT_DOUBLE_EQ(b.front(), 0.0005);
  EXPECT_DOUBLE_EQ(b.back(), 10);
  Registry registry;
  EXPECT_NO_THROW(registry.histogram("d_seconds", "d", {}, b));
}

TEST(Render, EscapesLabelValuesAndHelp) {
  Registry registry;
  auto& errors = registry.counter("errors_total", "Errors with \\ and\nnewline and \"quotes\".", {"reason"});
  errors.with({"say \"hi\"\\\nbye"}).inc();
  EXPECT_EQ(registry.render(),
            "# HELP errors_total Errors with \\\\ and\\nnewline and \"quotes\".\n"
            "# TYPE errors_total counter\n"
            "errors_total{reason=\"say \\\"hi\\\"\\\\\\nbye\"} 1\n");
}

TEST(Render, ReplacesInvalidUtf8InLabelValues) {
  EXPECT_EQ(sanitize_label_value("ok \xC3\xA9 \xFF end"), "ok \xC3\xA9 \xEF\xBF\xBD end");
  EXPECT_EQ(sanitize_label_value("\xE2\x82"), "\xEF\xBF\xBD\xEF\xBF\xBD");  // truncated sequence
  EXPECT_EQ(sanitize_label_value("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // surrogate
  EXPECT_EQ(sanitize_label_value("\xF0\x9F\x98\x80"), "\xF0\x9F\x98\x80");
  EXPECT_EQ(sanitize_label_value("quote \" stays"), "quote \" stays");  // escaping is prometheus-cpp's
  EXPECT_EQ(escape_help("\xC0\xAF"), "\xEF\xBF\xBD\xEF\xBF\xBD");  // overlong '/'
  Registry registry;
  registry.counter("bad_total", "x", {"v"}).with({"a\xFF" "b"}).inc();
  EXPECT_NE(registry.render().find("bad_total{v=\"a\xEF\xBF\xBD" "b\"} 1\n"), std::string::npos);
}

TEST(Render, WritesValuesAsPrometheusParsesThem) {
  Registry registry;
  auto& values = registry.gauge("v", "x", {"k"});
  values.with({"a_zero"}).set(0);
  values.with({"b_int"}).set(42);
  values.with({"c_neg"}).set(-3);
  values.with({"d_frac"}).set(0.25);
  values.with({"e_small"}).set(0.0005);
  values.with({"f_big"}).set(1e20);
  values.with({"g_inf"}).set(std::numeric_limits<double>::infinity());
  values.with({"h_ninf"}).set(-std::numeric_limits<double>::infinity());
  EXPECT_EQ(registry.render(),
            "# HELP v x\n# TYPE v gauge\n"
            "v{k=\"a_zero\"} 0\nv{k=\"b_int\"} 42\nv{k=\"c_neg\"} -3\nv{k=\"d_frac\"} 0.25\n"
            "v{k=\"e_small\"} 0.0005\nv{k=\"f_big\"} 1e+20\nv{k=\"g_inf\"} +Inf\nv{k=\"h_ninf\"} -Inf\n");
}

TEST(Render, FamiliesInRegistrationOrderAndEmptyFamiliesHaveOnlyHeaders) {
  Registry registry;
  registry.gauge("zeta", "Z.");
  registry.counter("alpha_total", "A.").get().inc();
  EXPECT_EQ(registry.render(),
            "# HELP zeta Z.\n"
            "# TYPE zeta gauge\n"
            "# HELP alpha_total A.\n"
            "# TYPE alpha_total counter\n"
            "alpha_total 1\n");
}

TEST(Render, RunsCollectorsFirst) {
  Registry registry;
  Gauge& g = registry.gauge("refreshed", "Set at collect time.").get();
  int calls = 0;
  registry.on_collect([&] { g.set(++calls); });
  EXPECT_NE(registry.render().find("refreshed 1\n"), std::string::npos);
  EXPECT_NE(registry.render().find("refreshed 2\n"), std::string::npos);
}

TEST(Names, InvalidMetricAndLabelNamesThrow) {
  Registry registry;
  EXPECT_THROW(registry.counter("", "x"), std::invalid_argument);
  EXPECT_THROW(registry.counter("1abc_total", "x"), std::invalid_argument);
  EXPECT_THROW(registry.counter("with-dash_total", "x"), std::invalid_argument);
  EXPECT_THROW(registry.gauge("spa ce", "x"), std::invalid_argument);
  EXPECT_THROW(registry.gauge("ok", "x", {"bad-label"}), std::invalid_argument);
  EXPECT_THROW(registry.gauge("ok", "x", {"__reserved"}), std::invalid_argument);
  EXPECT_THROW(registry.gauge("ok", "x", {"ns:label"}), std::invalid_argument);
  EXPECT_THROW(registry.gauge("ok", "x", {"a", "a"}), std::invalid_argument);
  EXPECT_NO_THROW(registry.gauge("ns:sub_metric", "x", {"_ok", "Mixed9"}));
  // Nothing half-registered by the failures above.
  EXPECT_EQ(registry.render(), "# HELP ns:sub_metric x\n# TYPE ns:sub_metric gauge\n");
}

TEST(Names, LabelCountMismatchThrows) {
  Registry registry;
  auto& family = registry.counter("c_total", "x", {"a", "b"});
  EXPECT_THROW(family.with({"only one"}), std::invalid_argument);
  EXPECT_THROW(family.with({"1", "2", "3"}), std::invalid_argument);
  EXPECT_THROW(family.get(), std::invalid_argument);
  auto& unlabeled = registry.gauge("g", "x");
  EXPECT_THROW(unlabeled.with({"x"}), std::invalid_argument);
}

TEST(Registration, SameNameTypeAndLabelsReturnsSameFamily) {
  Registry registry;
  auto& first = registry.counter("jobs_total", "Jobs.", {"outcome"});
  auto& second = registry.counter("jobs_total", "Other help is ignored.", {"outcome"});
  EXPECT_EQ(&first, &second);
  first.with({"delivered"}).inc();
  EXPECT_EQ(second.with({"delivered"}).value(), 1);
  auto& h1 = registry.histogram("d_seconds", "D.", {}, {1, 2});
  EXPECT_EQ(&h1, &registry.histogram("d_seconds", "D.", {}, {1, 2}));
}

TEST(Registration, ConflictingRegistrationThrows) {
  Registry registry;
  registry.counter("jobs_total", "Jobs.", {"outcome"});
  EXPECT_THROW(registry.gauge("jobs_total", "Jobs."), std::invalid_argument);
  EXPECT_THROW(registry.histogram("jobs_total", "Jobs."), std::invalid_argument);
  EXPECT_THROW(registry.counter("jobs_total", "Jobs.", {"lane"}), std::invalid_argument);
  registry.histogram("d_seconds", "D.", {}, {1, 2});
  EXPECT_THROW(registry.histogram("d_seconds", "D.", {}, {1, 3}), std::invalid_argument);
  // Sample names of a histogram are taken too.
  EXPECT_THROW(registry.gauge("d_seconds_count", "x"), std::invalid_argument);
  registry.gauge("e_seconds_sum", "x");
  EXPECT_THROW(registry.histogram("e_seconds", "x"), std::invalid_argument);
}

TEST(Family, WithAcceptsStringVectorsAndReturnsStableReferences) {
  Registry registry;
  auto& family = registry.gauge("g", "x", {"a", "b"});
  const std::vector<std::string> values{"1", "2"};
  Gauge& from_vector = family.with(values);
  Gauge& from_list = family.with({"1", "2"});
  EXPECT_EQ(&from_vector, &from_list);
  // Many more series: earlier references stay valid and distinct label sets stay distinct.
  for (int i = 0; i < 500; ++i) family.with({std::to_string(i), "x"}).set(i);
  EXPECT_EQ(&family.with({"1", "2"}), &from_vector);
  EXPECT_EQ(family.with({"499", "x"}).value(), 499);
  // ("ab","c") and ("a","bc") are different series.
  family.with({"ab", "c"}).set(1);
  family.with({"a", "bc"}).set(2);
  EXPECT_EQ(family.with({"ab", "c"}).value(), 1);
}

TEST(Family, ConcurrentUpdatesAndCreationAreConsistent) {
  Registry registry;
  auto& family = registry.counter("c_total", "x", {"k"});
  constexpr int kThreads = 4, kPerThread = 2000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kPerThread; ++i) family.with({std::to_string(i % 50)}).inc();
    });
  }
  for (auto& th : threads) th.join();
  double total = 0;
  int series = 0;
  family.for_each([&](const std::vector<std::string>&, const Counter& c) {
    total += c.value();
    ++series;
  });
  EXPECT_EQ(series, 50);
  EXPECT_EQ(total, kThreads * kPerThread);
}

TEST(Registry, FamiliesAndSeriesLiveInPrometheusCppsRegistry) {
  Registry registry;
  registry.counter("jobs_total", "Jobs.", {"outcome"}).with({"completed"}).inc(3);
  registry.gauge("idle", "Idle.");
  const std::vector<prometheus::MetricFamily> collected = registry.core().Collect();
  ASSERT_EQ(collected.size(), 1u);  // prometheus-cpp leaves out a family without series
  EXPECT_EQ(collected[0].name, "jobs_total");
  ASSERT_EQ(collected[0].metric.size(), 1u);
  EXPECT_EQ(collected[0].metric[0].counter.value, 3);
  ASSERT_EQ(collected[0].metric[0].label.size(), 1u);
  EXPECT_EQ(collected[0].metric[0].label[0].value, "completed");
}

}  // namespace
}  // namespace pushgw::metrics
