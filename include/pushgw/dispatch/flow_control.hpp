#pragma once
// Flow control per app and provider, without I/O (the Dispatcher feeds them the clock and the
// outcomes): a send rate limit and a circuit breaker.
//
//   SendRate  spaces sends to `rate` per second (a reservation per send: the delay before it
//             may start), with a burst of a twentieth of a second's worth after idling, so
//             that over any 10 s the rate holds within 1%.
//   Breaker   closed → open when, among the sends of the last `window`, at least min_requests
//             were answered and the share of failures (transient: 5xx, 429, timeouts, lost
//             connections) reaches error_ratio, or at once on a credentials error; open for
//             open_for (the app's jobs are parked in the retry ZSET meanwhile), then half-open:
//             one job goes through as a probe; its outcomes close the breaker or open it again.

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "pushgw/config/config.hpp"
#include "pushgw/job/outcome.hpp"

namespace pushgw::dispatch {

using FlowClock = std::chrono::steady_clock;

class SendRate {
 public:
  // `per_second` > 0.
  explicit SendRate(double per_second);
  // Reserves the next send's slot: how long the send must wait before it starts (zero when it
  // may start now).
  FlowClock::duration reserve(FlowClock::time_point now);
  double per_second() const { return per_second_; }

 private:
  double per_second_;
  FlowClock::duration interval_;  // between two sends
  FlowClock::duration burst_;     // how far behind `now` the next slot may lag (idle credit)
  FlowClock::time_point next_{};  // the next free slot
};

enum class BreakerState { closed, open, half_open };
std::string_view to_string(BreakerState state);

class Breaker {
 public:
  explicit Breaker(config::BreakerConfig config);

  // Whether a job may send now. In half-open the first caller becomes the probe (true); the
  // others wait for its outcome (false). Moves open → half-open once open_for has passed.
  bool allow(FlowClock::time_point now);
  // When a job refused by allow() should be tried again: the end of the open period (or, in
  // half-open, a short while on, when the probe has answered).
  FlowClock::time_point retry_at(FlowClock::time_point now) const;

  // A job's sends, once they have answered: counted in the window; `probe` is what allow()
  // granted in half-open.
  void record(FlowClock::time_point now, std::size_t sends, std::size_t failures, bool credentials_error, bool probe);

  BreakerState state() const { return state_; }
  bool enabled() const { return config_.error_ratio > 0; }
  std::size_t opened() const { return opened_; }  // times it opened (for the metric)

 private:
  static constexpr std::size_t kBuckets = 10;  // the window in tenths
  void open(FlowClock::time_point now);
  void advance(FlowClock::time_point now);  // drops buckets older than the window
  std::size_t bucket_of(FlowClock::time_point now) const;

  config::BreakerConfig config_;
  BreakerState state_ = BreakerState::closed;
  FlowClock::time_point open_until_{};
  bool probing_ = false;
  std::size_t opened_ = 0;
  // Sends and failures per tenth of the window, the newest at current_.
  std::array<std::size_t, kBuckets> sends_{}, failures_{};
  std::int64_t current_ = -1;  // index of the newest bucket since the epoch
};

// Whether an outcome counts as the provider failing (for the breaker): transient failures and
// credentials errors; a delivered, dead or rejected token is the provider answering.
bool is_provider_failure(job::OutcomeKind kind);

}  // namespace pushgw::dispatch
