#pragma once
// Unix time in seconds (and ms), injectable so tests control it (token ages, JWT iat, message ttl).

#include <chrono>
#include <cstdint>
#include <functional>

namespace pushgw::common {

using UnixClock = std::function<std::int64_t()>;

inline std::int64_t system_unix_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

inline std::int64_t system_unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace pushgw::common
