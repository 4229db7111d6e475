#pragma once
// Retry-After, as every provider's answers carry it (APNs 429/503, FCM 429/503). Pure logic.

#include <chrono>
#include <optional>
#include <string_view>

namespace pushgw::provider {

// Parses a Retry-After value: delta-seconds or an HTTP-date (IMF-fixdate, RFC 850 or asctime
// form). A date in the past gives 0 s; values are capped at kMaxRetryAfter so a broken header
// cannot park a job for years. nullopt when the value is neither form.
inline constexpr std::chrono::seconds kMaxRetryAfter{24 * 60 * 60};
std::optional<std::chrono::seconds> parse_retry_after(std::string_view value,
                                                      std::chrono::system_clock::time_point now);

}  // namespace pushgw::provider
