#pragma once
// Exponential backoff with jitter, written once for every retry loop (Redis reconnects, h2
// reconnects, job retries, Redis steps a job waits for). Pure logic; the random draw comes in
// as `unit` (uniform in [0, 1]) so tests choose it.

#include <algorithm>
#include <chrono>
#include <cmath>
#include <random>

namespace pushgw::common {

struct Backoff {
  std::chrono::milliseconds min{100};
  std::chrono::milliseconds max{30000};
  // The delay is multiplied by a factor in [low, high], so that a burst of failures does not
  // come back in the same millisecond.
  double low = 0.75;
  double high = 1.25;

  // The delay after `failures` (>= 1) failures in a row: min doubled per failure after the
  // first, capped at max, times the jitter factor chosen by `unit`. A zero min counts as 1 ms:
  // an outage must never become a busy loop.
  std::chrono::milliseconds delay(unsigned failures, double unit) const {
    const double lo = static_cast<double>(std::max(min, std::chrono::milliseconds(1)).count());
    const double hi = std::max(lo, static_cast<double>(max.count()));
    const unsigned doublings = std::min(failures == 0 ? 0u : failures - 1, 60u);
    const double base = std::min(hi, lo * std::ldexp(1.0, static_cast<int>(doublings)));
    const double factor = low + (high - low) * std::clamp(unit, 0.0, 1.0);
    return std::chrono::milliseconds(static_cast<std::chrono::milliseconds::rep>(std::llround(base * factor)));
  }

  // delay() with a draw from a per-thread generator.
  std::chrono::milliseconds jittered_delay(unsigned failures) const {
    thread_local std::mt19937_64 random{std::random_device{}()};
    return delay(failures, std::uniform_real_distribution<double>(0.0, 1.0)(random));
  }
};

// A loop's failures in a row: next() after a failure, reset() after a success.
class BackoffSequence {
 public:
  explicit BackoffSequence(Backoff backoff) : backoff_(backoff) {}
  std::chrono::milliseconds next() { return backoff_.jittered_delay(++failures_); }
  void reset() { failures_ = 0; }
  unsigned failures() const { return failures_; }

 private:
  Backoff backoff_;
  unsigned failures_ = 0;
};

}  // namespace pushgw::common
