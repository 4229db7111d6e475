#pragma once
// The standard process_* metrics every Prometheus client exports, read from /proc/self when
// the registry is rendered.

#include <cstdint>
#include <optional>
#include <string_view>

#include "pushgw/metrics/metrics.hpp"

namespace pushgw::metrics {

// Registers process_resident_memory_bytes, process_virtual_memory_bytes,
// process_cpu_seconds_total, process_open_fds, process_max_fds and
// process_start_time_seconds, and a collector that refreshes them at each render().
// Calling it again on the same registry is harmless.
void register_process_metrics(Registry& registry);

// What /proc/self/stat says, in the units the metrics use.
struct ProcessStat {
  double cpu_seconds = 0;          // user + system
  double start_time_seconds = 0;   // since boot (add the boot time for a unix time)
  std::uint64_t virtual_memory_bytes = 0;
  std::uint64_t resident_memory_bytes = 0;
};

// Parses the text of /proc/<pid>/stat. The command name may contain spaces and ')', so fields
// are counted from the last ')'. nullopt when the text is not in that format.
std::optional<ProcessStat> parse_proc_stat(std::string_view text, long clock_ticks_per_second, long page_size);

// The "btime" line of /proc/stat (boot time, unix seconds); nullopt when missing.
std::optional<double> parse_boot_time(std::string_view proc_stat_text);

}  // namespace pushgw::metrics
