#include "pushgw/metrics/process.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <charconv>
#include <filesystem>
#include <fstream>
#include <limits>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

namespace pushgw::metrics {

namespace {

std::optional<std::string> read_file(const char* path) {
  // /proc files report size 0, so read until EOF instead of by size.
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  return std::move(text).str();
}

template <class Number>
std::optional<Number> parse_number(std::string_view s) {
  Number value{};
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return value;
}

std::vector<std::string_view> split_spaces(std::string_view s) {
  std::vector<std::string_view> fields;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\n')) ++i;
    const std::size_t start = i;
    while (i < s.size() && s[i] != ' ' && s[i] != '\n') ++i;
    if (i > start) fields.push_back(s.substr(start, i - start));
  }
  return fields;
}

std::optional<double> open_fd_count() {
  std::error_code ec;
  std::filesystem::directory_iterator it("/proc/self/fd", ec);
  if (ec) return std::nullopt;
  double count = 0;
  for (; it != std::filesystem::directory_iterator(); it.increment(ec)) {
    if (ec) return std::nullopt;
    ++count;
  }
  return count;
}

// Collectors of different registrations may update the same CPU counter concurrently.
std::mutex cpu_counter_mutex;

}  // namespace

std::optional<ProcessStat> parse_proc_stat(std::string_view text, long clock_ticks_per_second, long page_size) {
  const std::size_t close = text.rfind(')');
  if (close == std::string_view::npos || clock_ticks_per_second <= 0 || page_size <= 0) return std::nullopt;
  // fields[0] is field 3 (state) in proc(5)'s numbering.
  const std::vector<std::string_view> fields = split_spaces(text.substr(close + 1));
  constexpr std::size_t kUtime = 14 - 3, kStime = 15 - 3, kStartTime = 22 - 3, kVsize = 23 - 3, kRss = 24 - 3;
  if (fields.size() <= kRss) return std::nullopt;
  const auto utime = parse_number<std::uint64_t>(fields[kUtime]);
  const auto stime = parse_number<std::uint64_t>(fields[kStime]);
  const auto start = parse_number<std::uint64_t>(fields[kStartTime]);
  const auto vsize = parse_number<std::uint64_t>(fields[kVsize]);
  const auto rss = parse_number<std::int64_t>(fields[kRss]);
  if (!utime || !stime || !start || !vsize || !rss) return std::nullopt;
  const auto ticks = static_cast<double>(clock_ticks_per_second);
  ProcessStat stat;
  stat.cpu_seconds = static_cast<double>(*utime + *stime) / ticks;
  stat.start_time_seconds = static_cast<double>(*start) / ticks;
  stat.virtual_memory_bytes = *vsize;
  stat.resident_memory_bytes = *rss > 0 ? static_cast<std::uint64_t>(*rss) * static_cast<std::uint64_t>(page_size) : 0;
  return stat;
}

std::optional<double> parse_boot_time(std::string_view proc_stat_text) {
  std::size_t pos = 0;
  while (pos < proc_stat_text.size()) {
    std::size_t end = proc_stat_text.find('\n', pos);
    if (end == std::string_view::npos) end = proc_stat_text.size();
    const std::string_view line = proc_stat_text.substr(pos, end - pos);
    if (line.starts_with("btime ")) {
      const auto fields = split_spaces(line);
      if (fields.size() == 2) {
        if (auto seconds = parse_number<std::uint64_t>(fields[1])) return static_cast<double>(*seconds);
      }
      return std::nullopt;
    }
    pos = end + 1;
  }
  return std::nullopt;
}

void register_process_metrics(Registry& registry) {
  Gauge& resident = registry.gauge("process_resident_memory_bytes", "Resident memory size in bytes.").get();
  Gauge& virtual_memory = registry.gauge("process_virtual_memory_bytes", "Virtual memory size in bytes.").get();
  Counter& cpu = registry.counter("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.").get();
  Gauge& open_fds = registry.gauge("process_open_fds", "Number of open file descriptors.").get();
  Gauge& max_fds = registry.gauge("process_max_fds", "Maximum number of open file descriptors.").get();
  Gauge& start_time =
      registry.gauge("process_start_time_seconds", "Start time of the process since unix epoch in seconds.").get();

  const long ticks = sysconf(_SC_CLK_TCK);
  const long page_size = sysconf(_SC_PAGESIZE);

  // The start time never changes: read it once.
  if (auto self = read_file("/proc/self/stat")) {
    if (auto stat = parse_proc_stat(*self, ticks, page_size)) {
      if (auto proc_stat = read_file("/proc/stat")) {
        if (auto boot = parse_boot_time(*proc_stat)) start_time.set(*boot + stat->start_time_seconds);
      }
    }
  }

  registry.on_collect([&resident, &virtual_memory, &cpu, &open_fds, &max_fds, ticks, page_size] {
    // A file that cannot be read (no /proc, e.g. in a sandbox) leaves the last values.
    if (auto self = read_file("/proc/self/stat")) {
      if (auto stat = parse_proc_stat(*self, ticks, page_size)) {
        resident.set(static_cast<double>(stat->resident_memory_bytes));
        virtual_memory.set(static_cast<double>(stat->virtual_memory_bytes));
        // The kernel keeps the total; the counter only moves forward to it.
        std::lock_guard lock(cpu_counter_mutex);
        const double delta = stat->cpu_seconds - cpu.value();
        if (delta > 0) cpu.inc(delta);
      }
    }
    if (auto fds = open_fd_count()) open_fds.set(*fds);
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) == 0) {
      max_fds.set(limit.rlim_cur == RLIM_INFINITY ? static_cast<double>(std::numeric_limits<std::int64_t>::max())
                                                  : static_cast<double>(limit.rlim_cur));
    }
  });
}

}  // namespace pushgw::metrics
