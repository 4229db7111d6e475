#pragma once
// The simulator's adjustable behaviour: set by command-line flags, changed at run time by
// POST /sim/config, read on every request from every server thread (hence the atomics).

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>

namespace pushgw::sim {

struct BehaviourValues {
  std::uint32_t max_streams = 1000;   // SETTINGS_MAX_CONCURRENT_STREAMS once authorised
  bool stream_ramp = true;            // advertise 1 stream until the first authorised request
  std::uint32_t latency_ms = 0;       // delay before every response
  std::uint64_t goaway_after = 0;     // GOAWAY after this many streams on a connection; 0 = never
  std::uint64_t drop_after = 0;       // drop the TCP connection at this many requests; 0 = never
  double error_rate = 0.0;            // fraction of requests answered 503 ServiceUnavailable
  int force_status = 0;               // answer every service request with this status; 0 = off
  std::string force_reason;           // reason for force_status; empty = the usual one
  bool no_auth = false;               // skip provider authentication (for h2load)
  bool record_requests = false;       // keep the last requests for GET /sim/requests
  bool operator==(const BehaviourValues&) const = default;
};

class Behaviour {
 public:
  explicit Behaviour(const BehaviourValues& initial = {});

  BehaviourValues snapshot() const;
  void set(const BehaviourValues& values);

  // Applies a JSON object of changes, e.g. {"force_status": 503} or {"force_status": null};
  // keys not given keep their value. On a bad key or value nothing changes, false is returned
  // and *error names the key and what is wrong.
  bool apply_json(std::string_view json, std::string* error);
  std::string to_json() const;

  std::uint32_t max_streams() const { return max_streams_.load(std::memory_order_relaxed); }
  bool stream_ramp() const { return stream_ramp_.load(std::memory_order_relaxed); }
  std::uint32_t latency_ms() const { return latency_ms_.load(std::memory_order_relaxed); }
  std::uint64_t goaway_after() const { return goaway_after_.load(std::memory_order_relaxed); }
  std::uint64_t drop_after() const { return drop_after_.load(std::memory_order_relaxed); }
  double error_rate() const { return error_rate_.load(std::memory_order_relaxed); }
  int force_status() const { return force_status_.load(std::memory_order_relaxed); }
  std::string force_reason() const;
  bool no_auth() const { return no_auth_.load(std::memory_order_relaxed); }
  bool record_requests() const { return record_requests_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint32_t> max_streams_;
  std::atomic<bool> stream_ramp_;
  std::atomic<std::uint32_t> latency_ms_;
  std::atomic<std::uint64_t> goaway_after_;
  std::atomic<std::uint64_t> drop_after_;
  std::atomic<double> error_rate_;
  std::atomic<int> force_status_;
  std::atomic<bool> no_auth_;
  std::atomic<bool> record_requests_;
  mutable std::mutex mutex_;  // guards force_reason_ and whole-object updates
  std::string force_reason_;
};

}  // namespace pushgw::sim
