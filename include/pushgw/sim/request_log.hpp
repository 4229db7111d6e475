#pragma once
// The last requests the simulator answered, for tests that assert what pushgw sent (headers,
// path, payload) rather than only that it was accepted: GET /sim/requests, cleared by
// POST /sim/reset. Off unless /sim/config sets record_requests (benchmarks pay nothing).

#include <cstddef>
#include <deque>
#include <mutex>
#include <string>

#include <nlohmann/json.hpp>

#include "pushgw/sim/request.hpp"

namespace pushgw::sim {

class RequestLog {
 public:
  static constexpr std::size_t kCapacity = 256;  // the oldest entries go first

  // Keeps {"method", "path", "headers": {name: value}, "body", "status", "reason"}: the body as
  // JSON when it parses, else its text; the authorization header is left out (a credential).
  void record(const Request& request, const Response& response);
  // {"requests": [...]}, oldest first.
  std::string to_json() const;
  void clear();

 private:
  mutable std::mutex mutex_;
  std::deque<nlohmann::json> entries_;
};

}  // namespace pushgw::sim
