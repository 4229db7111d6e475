#pragma once
// "https://host[:port][/]" → host and port, for the providers' `endpoint` config keys.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace pushgw::h2 {

struct HttpsEndpoint {
  std::string host;          // without brackets for IPv6 literals
  std::uint16_t port = 443;
  bool operator==(const HttpsEndpoint&) const = default;
};

// Parses an https URL with no path (a single trailing '/' is allowed). On failure returns
// nullopt and sets *error (when non-null) to what is wrong, e.g. "scheme must be https".
std::optional<HttpsEndpoint> parse_https_endpoint(std::string_view url, std::string* error = nullptr);

}  // namespace pushgw::h2
