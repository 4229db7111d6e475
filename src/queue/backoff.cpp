#include "pushgw/queue/backoff.hpp"

#include <algorithm>
#include <cmath>

namespace pushgw::queue {

std::chrono::milliseconds retry_delay(const config::RetriesConfig& retries, unsigned attempt,
                                      std::optional<std::chrono::seconds> retry_after, double jitter) {
  using std::chrono::milliseconds;
  const double min_ms = static_cast<double>(retries.backoff_min.count());
  const double max_ms = static_cast<double>(retries.backoff_max.count());
  const unsigned doublings = std::min(attempt == 0 ? 0u : attempt - 1, 60u);
  const double base = std::min(max_ms, min_ms * std::ldexp(1.0, static_cast<int>(doublings)));
  const double factor = 0.75 + 0.5 * std::clamp(jitter, 0.0, 1.0);
  auto delay = milliseconds(static_cast<milliseconds::rep>(std::llround(base * factor)));
  if (retry_after && *retry_after > delay) delay = *retry_after;
  return delay;
}

}  // namespace pushgw::queue
