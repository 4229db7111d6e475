#pragma once
// When a token whose send failed transiently is tried again. Pure logic, no I/O.

#include <chrono>
#include <optional>

#include "pushgw/config/config.hpp"

namespace pushgw::queue {

// The delay before attempt `attempt + 1`, after `attempt` (≥ 1) failed sends:
// backoff_min doubled per failure, capped at backoff_max, times a jitter factor in
// [0.75, 1.25] taken from `jitter` in [0, 1] (so retries of a burst do not all come back in
// the same millisecond). A provider's Retry-After is a floor: the delay is never shorter,
// even past backoff_max (the provider said when it will take the request again).
std::chrono::milliseconds retry_delay(const config::RetriesConfig& retries, unsigned attempt,
                                      std::optional<std::chrono::seconds> retry_after, double jitter);

}  // namespace pushgw::queue
