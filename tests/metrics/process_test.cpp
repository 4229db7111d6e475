#include "pushgw/metrics/process.hpp"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <sstream>
#include <string>

namespace pushgw::metrics {
namespace {

// name -> value for each unlabeled sample line of an exposition.
std::map<std::string, double> samples(const std::string& text) {
  std::map<std::string, double> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    const auto space = line.find(' ');
    out[line.substr(0, space)] = std::stod(line.substr(space + 1));
  }
  return out;
}

TEST(ProcessMetrics, ReportsPlausibleValuesForThisProcess) {
  Registry registry;
  register_process_metrics(registry);
  // Burn a little CPU so the counter has something to show even at 100 ticks per second.
  volatile double sink = 0;
  for (int i = 0; i < 20'000'000; ++i) sink = sink + i * 0.5;

  const auto values = samples(registry.render());
  ASSERT_EQ(values.size(), 6u);

  EXPECT_GT(values.at("process_resident_memory_bytes"), 1024 * 1024);  // a gtest binary is > 1 MiB
  EXPECT_GT(values.at("process_virtual_memory_bytes"), values.at("process_resident_memory_bytes"));
  EXPECT_GT(values.at("process_cpu_seconds_total"), 0);
  EXPECT_GE(values.at("process_open_fds"), 3);  // stdin, stdout, stderr

  rlimit limit{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &limit), 0);
  if (limit.rlim_cur != RLIM_INFINITY) {
    EXPECT_EQ(values.at("process_max_fds"), static_cast<double>(limit.rlim_cur));
  }

  // Started in the last day, and not in the future.
  const double now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  EXPECT_LE(values.at("process_start_time_seconds"), now + 1);
  EXPECT_GT(values.at("process_start_time_seconds"), now - 86400);
}

TEST(ProcessMetrics, CpuCounterNeverGoesBackwardsAcrossRenders) {
  Registry registry;
  register_process_metrics(registry);
  register_process_metrics(registry);  // twice: same families, no error
  const double first = samples(registry.render()).at("process_cpu_seconds_total");
  const double second = samples(registry.render()).at("process_cpu_seconds_total");
  EXPECT_GE(second, first);
}

TEST(ParseProcStat, CountsFieldsFromTheLastParenthesis) {
  // comm "a) b (c" contains spaces and parentheses; utime 150, stime 50, starttime 1000,
  // vsize 4096000, rss 250 pages.
  const std::string text =
      "1234 (a) b (c) S 1 1234 1234 0 -1 4194560 100 0 0 0 150 50 0 0 20 0 1 0 1000 4096000 250 "
      "18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0\n";
  const auto stat = parse_proc_stat(text, 100, 4096);
  ASSERT_TRUE(stat.has_value());
  EXPECT_DOUBLE_EQ(stat->cpu_seconds, 2.0);
  EXPECT_DOUBLE_EQ(stat->start_time_seconds, 10.0);
  EXPECT_EQ(stat->virtual_memory_bytes, 4096000u);
  EXPECT_EQ(stat->resident_memory_bytes, 250u * 4096u);
}

TEST(ParseProcStat, RejectsMalformedText) {
  EXPECT_FALSE(parse_proc_stat("", 100, 4096).has_value());
  EXPECT_FALSE(parse_proc_stat("1234 (x) S 1 2 3", 100, 4096).has_value());
  EXPECT_FALSE(parse_proc_stat("1234 no parenthesis S", 100, 4096).has_value());
  const std::string not_numbers =
      "1 (x) S 1 1 1 0 -1 0 0 0 0 0 abc 50 0 0 20 0 1 0 1000 4096000 250 0\n";
  EXPECT_FALSE(parse_proc_stat(not_numbers, 100, 4096).has_value());
}

TEST(ParseBootTime, FindsTheBtimeLine) {
  EXPECT_EQ(parse_boot_time("cpu  1 2 3\nintr 5\nbtime 1700000000\nprocesses 10\n"), 1700000000.0);
  EXPECT_FALSE(parse_boot_time("cpu 1 2 3\n").has_value());
  EXPECT_FALSE(parse_boot_time("btime soon\n").has_value());
}

}  // namespace
}  // namespace pushgw::metrics
