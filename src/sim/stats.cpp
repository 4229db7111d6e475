#include "pushgw/sim/stats.hpp"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <new>

#include <nlohmann/json.hpp>

namespace pushgw::sim {

namespace {

// Zeroed slots from calloc: large blocks come as untouched pages, paid for as keys arrive.
template <class Slot>
Slot* zeroed_slots(std::size_t n) {
  auto* slots = static_cast<Slot*>(std::calloc(n, sizeof(Slot)));
  if (slots == nullptr) throw std::bad_alloc();
  return slots;
}

}  // namespace

KeyCounts::KeyCounts(std::size_t capacity) {
  std::size_t n = 16;
  while (n < capacity) n *= 2;
  slots_ = zeroed_slots<Slot>(n);
  mask_ = n - 1;
}

KeyCounts::~KeyCounts() { std::free(slots_); }

KeyCounts::Slot* KeyCounts::find(std::uint64_t key) const {
  // The keys are hashes already; the multiply spreads any pattern in their low bits.
  std::size_t i = static_cast<std::size_t>((key * 0x9e3779b97f4a7c15ULL) >> 20) & mask_;
  while (slots_[i].count != 0 && slots_[i].key != key) i = (i + 1) & mask_;
  return &slots_[i];
}

std::uint32_t KeyCounts::add(std::uint64_t key) {
  Slot* slot = find(key);
  if (slot->count == 0) {
    if (2 * (size_ + 1) > capacity()) {  // at most half full: probes stay short
      grow();
      slot = find(key);
    }
    slot->key = key;
    ++size_;
  }
  return ++slot->count;
}

std::uint32_t KeyCounts::count(std::uint64_t key) const { return find(key)->count; }

void KeyCounts::grow() {
  Slot* old = slots_;
  const std::size_t old_capacity = capacity();
  slots_ = zeroed_slots<Slot>(2 * old_capacity);  // throws before anything changed
  mask_ = 2 * old_capacity - 1;
  for (std::size_t i = 0; i < old_capacity; ++i) {
    if (old[i].count != 0) *find(old[i].key) = old[i];
  }
  std::free(old);
}

void KeyCounts::clear() {
  // Fresh pages again, rather than writing zeros over all of them.
  Slot* fresh = zeroed_slots<Slot>(capacity());
  std::free(slots_);
  slots_ = fresh;
  size_ = 0;
}

void Stats::request_received() {
  std::lock_guard lock(mutex_);
  ++data_.received;
}

void Stats::response_sent(int status, std::string_view reason, bool delivered, std::uint64_t key,
                          std::int64_t enqueued_ms) {
  const std::int64_t now_ms =
      delivered ? std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::system_clock::now().time_since_epoch()).count()
                : 0;
  std::lock_guard lock(mutex_);
  if (delivered) data_.last_delivery_unix_ms = std::max(data_.last_delivery_unix_ms, now_ms);
  if (delivered && enqueued_ms > 0 && latency_samples_ < kMaxLatencySamples) {
    ++latency_counts_[std::max<std::int64_t>(now_ms - enqueued_ms, 0)];
    ++latency_samples_;
  }
  ++data_.by_status[status];
  if (!reason.empty()) {
    const auto it = data_.by_reason.find(reason);
    if (it != data_.by_reason.end()) {
      ++it->second;
    } else {
      data_.by_reason.emplace(std::string(reason), 1);
    }
  }
  if (delivered) {
    if (deliveries_.add(key) == 1) {
      ++data_.unique;
    } else {
      ++data_.duplicates;
    }
  }
}

void Stats::connection_opened() {
  std::lock_guard lock(mutex_);
  ++data_.connections;
  ++data_.connections_open;
}

void Stats::connection_closed() {
  std::lock_guard lock(mutex_);
  if (data_.connections_open > 0) --data_.connections_open;
}

void Stats::stream_opened(std::uint64_t open_on_connection) {
  std::lock_guard lock(mutex_);
  ++inflight_;
  data_.max_inflight_seen = std::max(data_.max_inflight_seen, inflight_);
  data_.max_concurrent_streams_seen =
      std::max(data_.max_concurrent_streams_seen, open_on_connection);
}

void Stats::stream_closed() {
  std::lock_guard lock(mutex_);
  if (inflight_ > 0) --inflight_;
}

void Stats::goaway_sent() {
  std::lock_guard lock(mutex_);
  ++data_.goaways_sent;
}

void Stats::connection_dropped() {
  std::lock_guard lock(mutex_);
  ++data_.connections_dropped;
}

StatsSnapshot Stats::snapshot() const {
  std::lock_guard lock(mutex_);
  StatsSnapshot out = data_;
  if (latency_samples_ > 0) {
    // The sample at sorted index round(q * (n - 1)), found by walking the counts.
    auto at = [&](double q) {
      const auto index = static_cast<std::uint64_t>(q * static_cast<double>(latency_samples_ - 1) + 0.5);
      std::uint64_t seen = 0;
      for (const auto& [ms, count] : latency_counts_) {
        seen += count;
        if (seen > index) return static_cast<double>(ms);
      }
      return static_cast<double>(latency_counts_.rbegin()->first);
    };
    out.latency_ms.count = latency_samples_;
    out.latency_ms.p50 = at(0.50);
    out.latency_ms.p90 = at(0.90);
    out.latency_ms.p99 = at(0.99);
    out.latency_ms.max = static_cast<double>(latency_counts_.rbegin()->first);
  }
  return out;
}

std::int64_t bench_enqueued_ms(std::string_view payload) {
  constexpr std::string_view key = "\"bench_enqueued_ms\":";
  const auto at = payload.find(key);
  if (at == std::string_view::npos) return 0;
  std::size_t i = at + key.size();
  while (i < payload.size() && (payload[i] == ' ' || payload[i] == '"')) ++i;
  std::int64_t value = 0;
  std::size_t digits = 0;
  for (; i < payload.size() && payload[i] >= '0' && payload[i] <= '9' && digits < 18; ++i, ++digits) {
    value = value * 10 + (payload[i] - '0');
  }
  return digits > 0 ? value : 0;
}

std::string Stats::to_json() const {
  const StatsSnapshot s = snapshot();
  nlohmann::json by_status = nlohmann::json::object();
  for (const auto& [status, count] : s.by_status) by_status[std::to_string(status)] = count;
  nlohmann::json by_reason = nlohmann::json::object();
  for (const auto& [reason, count] : s.by_reason) by_reason[reason] = count;
  const nlohmann::json doc = {
      {"received", s.received},
      {"unique", s.unique},
      {"duplicates", s.duplicates},
      {"by_status", by_status},
      {"by_reason", by_reason},
      {"connections", s.connections},
      {"connections_open", s.connections_open},
      {"max_concurrent_streams_seen", s.max_concurrent_streams_seen},
      {"max_inflight_seen", s.max_inflight_seen},
      {"goaways_sent", s.goaways_sent},
      {"connections_dropped", s.connections_dropped},
      {"last_delivery_unix_ms", s.last_delivery_unix_ms},
      {"latency_ms", {{"count", s.latency_ms.count}, {"p50", s.latency_ms.p50}, {"p90", s.latency_ms.p90},
                      {"p99", s.latency_ms.p99}, {"max", s.latency_ms.max}}},
  };
  return doc.dump();
}

void Stats::reset() {
  std::lock_guard lock(mutex_);
  const std::uint64_t open = data_.connections_open;
  data_ = StatsSnapshot{};
  data_.connections_open = open;
  data_.max_inflight_seen = inflight_;
  deliveries_.clear();
  latency_counts_.clear();
  latency_samples_ = 0;
}

std::uint64_t delivery_key(std::string_view token, std::string_view payload) {
  // Two independent hashes combined; only equality within one run matters.
  const std::uint64_t a = std::hash<std::string_view>{}(token);
  const std::uint64_t b = std::hash<std::string_view>{}(payload);
  return a ^ (b + 0x9e3779b97f4a7c15ULL + (a << 6) + (a >> 2));
}

}  // namespace pushgw::sim
