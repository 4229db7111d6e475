#pragma once
// What the simulator has seen, served as GET /sim/stats and zeroed by POST /sim/reset.
// Shared by every server thread.

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace pushgw::sim {

struct StatsSnapshot {
  std::uint64_t received = 0;     // service requests (APNs/FCM/OAuth), answered or not
  std::uint64_t unique = 0;       // distinct delivered notifications (token + payload)
  std::uint64_t duplicates = 0;   // deliveries of a notification already delivered
  std::map<int, std::uint64_t> by_status;
  std::map<std::string, std::uint64_t, std::less<>> by_reason;
  std::uint64_t connections = 0;          // accepted since start/reset
  std::uint64_t connections_open = 0;     // a gauge: not zeroed by reset
  std::uint64_t max_concurrent_streams_seen = 0;  // on any one connection
  std::uint64_t max_inflight_seen = 0;            // over all connections at once
  std::uint64_t goaways_sent = 0;
  std::uint64_t connections_dropped = 0;
  // When the last delivery was answered (unix ms; 0 before the first): a benchmark's end time,
  // exact however rarely it polls.
  std::int64_t last_delivery_unix_ms = 0;
  // Enqueue → answer latency of deliveries whose payload carried bench_enqueued_ms.
  struct Latency {
    std::uint64_t count = 0;
    double p50 = 0, p90 = 0, p99 = 0, max = 0;  // milliseconds
  } latency_ms;
};

// Counts per 64-bit key in one flat table (open addressing, linear probing): a lookup is one
// cache line and no allocation. A std::unordered_map cost a node allocation and two cache misses
// per delivery, which showed most under a daemon's traffic (every token distinct). The table is
// calloc'ed: memory is only touched as keys arrive.
class KeyCounts {
 public:
  explicit KeyCounts(std::size_t capacity);  // rounded up to a power of two
  ~KeyCounts();
  KeyCounts(const KeyCounts&) = delete;
  KeyCounts& operator=(const KeyCounts&) = delete;

  std::uint32_t add(std::uint64_t key);  // the key's count, this one included
  std::uint32_t count(std::uint64_t key) const;
  std::size_t size() const { return size_; }
  std::size_t capacity() const { return mask_ + 1; }
  void clear();

 private:
  struct Slot {
    std::uint64_t key;
    std::uint32_t count;  // 0: empty
  };
  Slot* find(std::uint64_t key) const;  // the key's slot, or the empty one where it would go
  void grow();

  Slot* slots_ = nullptr;
  std::size_t mask_ = 0;
  std::size_t size_ = 0;
};

class Stats {
 public:
  // Room for half of kReservedDeliveries before the table grows: growing rehashes every entry
  // under the mutex, and past a million entries a rehash held up every answer for tens of ms
  // in the middle of a benchmark (the p99 of a 30 s stream went from 4 to 70 ms).
  Stats() : deliveries_(kReservedDeliveries) {}
  static constexpr std::size_t kReservedDeliveries = 1 << 23;
  void request_received();
  // An answer went out (status, its APNs/FCM reason if any); `delivered` with the key of
  // the notification (token + payload hash) counts unique and duplicate deliveries.
  // `enqueued_ms` (unix ms, 0 = none) of a delivery adds a latency sample.
  void response_sent(int status, std::string_view reason, bool delivered, std::uint64_t key,
                     std::int64_t enqueued_ms = 0);

  void connection_opened();
  void connection_closed();
  // A stream opened; `open_on_connection` counts it.
  void stream_opened(std::uint64_t open_on_connection);
  void stream_closed();
  void goaway_sent();
  void connection_dropped();

  StatsSnapshot snapshot() const;
  std::string to_json() const;
  void reset();

 private:
  mutable std::mutex mutex_;
  StatsSnapshot data_;
  std::uint64_t inflight_ = 0;
  KeyCounts deliveries_;  // key → times delivered
  // Latencies as counts per whole millisecond (capped at kMaxLatencySamples samples): exact
  // percentiles without copying and sorting every sample on each GET /sim/stats, which a
  // benchmark polls while the load runs.
  std::map<std::int64_t, std::uint64_t> latency_counts_;
  std::uint64_t latency_samples_ = 0;
};

inline constexpr std::size_t kMaxLatencySamples = 4'000'000;

// The number after "bench_enqueued_ms": in a payload (an APNs custom key, or an FCM data value,
// which is a string): the unix ms at which a benchmark enqueued the notification. 0 when absent.
std::int64_t bench_enqueued_ms(std::string_view payload);

// The delivery key of a notification: a hash of the device token and the payload.
std::uint64_t delivery_key(std::string_view token, std::string_view payload);

}  // namespace pushgw::sim
