#include "pushgw/dispatch/flow_control.hpp"

#include <algorithm>

namespace pushgw::dispatch {

using std::chrono::duration_cast;

SendRate::SendRate(double per_second)
    : per_second_(per_second),
      interval_(duration_cast<FlowClock::duration>(std::chrono::duration<double>(1.0 / per_second))),
      burst_(std::max(interval_, duration_cast<FlowClock::duration>(std::chrono::milliseconds(50)))) {}

FlowClock::duration SendRate::reserve(FlowClock::time_point now) {
  // After idling, the slots may lag `now` by the burst, no more: that much credit, not an
  // hour's worth after an hour of silence.
  if (next_ < now - burst_) next_ = now - burst_;
  const auto slot = next_;
  next_ += interval_;
  return slot > now ? slot - now : FlowClock::duration::zero();
}

std::string_view to_string(BreakerState state) {
  switch (state) {
    case BreakerState::closed: return "closed";
    case BreakerState::open: return "open";
    case BreakerState::half_open: return "half_open";
  }
  return "closed";
}

bool is_provider_failure(job::OutcomeKind kind) {
  return kind == job::OutcomeKind::retry || kind == job::OutcomeKind::credentials_error;
}

Breaker::Breaker(config::BreakerConfig config) : config_(config) {}

bool Breaker::allow(FlowClock::time_point now) {
  if (!enabled()) return true;
  if (state_ == BreakerState::closed) return true;
  if (state_ == BreakerState::open) {
    if (now < open_until_) return false;
    state_ = BreakerState::half_open;
    probing_ = false;
  }
  if (probing_) return false;
  probing_ = true;
  return true;
}

FlowClock::time_point Breaker::retry_at(FlowClock::time_point now) const {
  if (state_ == BreakerState::open) return std::max(open_until_, now);
  // Half-open: the probe is out; look again soon, not at every job.
  return now + std::max<FlowClock::duration>(std::chrono::seconds(1), config_.open_for / 10);
}

void Breaker::record(FlowClock::time_point now, std::size_t sends, std::size_t failures, bool credentials_error,
                     bool probe) {
  if (!enabled()) return;
  const bool failing = credentials_error || (sends > 0 && static_cast<double>(failures) >=
                                                              config_.error_ratio * static_cast<double>(sends));
  if (probe) {
    probing_ = false;
    if (sends == 0) return;  // told nothing (every token inactive): the next job probes
    if (failing) {
      open(now);
    } else {
      state_ = BreakerState::closed;
      sends_.fill(0);
      failures_.fill(0);
    }
    return;
  }
  if (state_ != BreakerState::closed) return;  // sends started before it opened
  if (credentials_error) {
    open(now);
    return;
  }
  advance(now);
  const auto at = static_cast<std::size_t>(current_) % kBuckets;
  sends_[at] += sends;
  failures_[at] += failures;
  std::size_t total = 0, failed = 0;
  for (std::size_t i = 0; i < kBuckets; ++i) {
    total += sends_[i];
    failed += failures_[i];
  }
  if (total >= config_.min_requests &&
      static_cast<double>(failed) >= config_.error_ratio * static_cast<double>(total)) {
    open(now);
  }
}

void Breaker::open(FlowClock::time_point now) {
  state_ = BreakerState::open;
  open_until_ = now + config_.open_for;
  probing_ = false;
  ++opened_;
  sends_.fill(0);
  failures_.fill(0);
}

std::size_t Breaker::bucket_of(FlowClock::time_point now) const {
  const auto width = std::max<FlowClock::duration>(FlowClock::duration(1), config_.window / kBuckets);
  return static_cast<std::size_t>(now.time_since_epoch() / width);
}

void Breaker::advance(FlowClock::time_point now) {
  const auto bucket = static_cast<std::int64_t>(bucket_of(now));
  if (current_ < 0 || bucket - current_ >= static_cast<std::int64_t>(kBuckets)) {
    sends_.fill(0);
    failures_.fill(0);
  } else {
    for (std::int64_t b = current_ + 1; b <= bucket; ++b) {
      sends_[static_cast<std::size_t>(b) % kBuckets] = 0;
      failures_[static_cast<std::size_t>(b) % kBuckets] = 0;
    }
  }
  current_ = std::max(current_, bucket);
}

}  // namespace pushgw::dispatch
