#include "pushgw/queue/backoff.hpp"

#include "pushgw/common/backoff.hpp"

namespace pushgw::queue {

std::chrono::milliseconds retry_delay(const config::RetriesConfig& retries, unsigned attempt,
                                      std::optional<std::chrono::seconds> retry_after, double jitter) {
  const common::Backoff backoff{retries.backoff_min, retries.backoff_max, 0.75, 1.25};
  auto delay = backoff.delay(attempt, jitter);
  if (retry_after && *retry_after > delay) delay = *retry_after;
  return delay;
}

}  // namespace pushgw::queue
