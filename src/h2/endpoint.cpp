#include "pushgw/h2/endpoint.hpp"

#include <charconv>

namespace pushgw::h2 {
namespace {

std::optional<HttpsEndpoint> fail(std::string* error, std::string message) {
  if (error) *error = std::move(message);
  return std::nullopt;
}

}  // namespace

std::optional<HttpsEndpoint> parse_https_endpoint(std::string_view url, std::string* error) {
  constexpr std::string_view scheme = "https://";
  if (url.substr(0, scheme.size()) != scheme) {
    return fail(error, "scheme must be https (expected https://host[:port]), got \"" +
                           std::string(url) + "\"");
  }
  std::string_view rest = url.substr(scheme.size());
  if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  if (rest.find_first_of("/?#@") != std::string_view::npos) {
    return fail(error, "must be https://host[:port] with no path, query or user info, got \"" +
                           std::string(url) + "\"");
  }

  HttpsEndpoint endpoint;
  std::string_view port_text;
  if (!rest.empty() && rest.front() == '[') {  // [IPv6]:port
    const auto close = rest.find(']');
    if (close == std::string_view::npos) return fail(error, "unterminated '[' in host");
    endpoint.host = std::string(rest.substr(1, close - 1));
    rest.remove_prefix(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return fail(error, "unexpected text after ']' in host");
      port_text = rest.substr(1);
      if (port_text.empty()) return fail(error, "empty port after ':'");
    }
  } else {
    const auto colon = rest.find(':');
    endpoint.host = std::string(rest.substr(0, colon));
    if (colon != std::string_view::npos) {
      port_text = rest.substr(colon + 1);
      if (port_text.empty()) return fail(error, "empty port after ':'");
    }
  }
  if (endpoint.host.empty()) return fail(error, "host is empty");
  if (!port_text.empty()) {
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), value);
    if (ec != std::errc() || end != port_text.data() + port_text.size() || value == 0 || value > 65535) {
      return fail(error, "port must be 1-65535, got \"" + std::string(port_text) + "\"");
    }
    endpoint.port = static_cast<std::uint16_t>(value);
  }
  return endpoint;
}

}  // namespace pushgw::h2
