#include "pushgw/sim/stats.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

namespace pushgw::sim {

void Stats::request_received() {
  std::lock_guard lock(mutex_);
  ++data_.received;
}

void Stats::response_sent(int status, std::string_view reason, bool delivered, std::uint64_t key) {
  std::lock_guard lock(mutex_);
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
    if (++deliveries_[key] == 1) {
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
  return data_;
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
}

std::uint64_t delivery_key(std::string_view token, std::string_view payload) {
  // Two independent hashes combined; only equality within one run matters.
  const std::uint64_t a = std::hash<std::string_view>{}(token);
  const std::uint64_t b = std::hash<std::string_view>{}(payload);
  return a ^ (b + 0x9e3779b97f4a7c15ULL + (a << 6) + (a >> 2));
}

}  // namespace pushgw::sim
