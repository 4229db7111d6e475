#include "pushgw/h2/endpoint.hpp"

#include "pushgw/common/url.hpp"

namespace pushgw::h2 {

std::optional<HttpsEndpoint> parse_https_endpoint(std::string_view url, std::string* error) {
  auto fail = [&](std::string message) -> std::optional<HttpsEndpoint> {
    if (error) *error = std::move(message);
    return std::nullopt;
  };
  if (url.substr(0, 8) != "https://") {
    return fail("scheme must be https (expected https://host[:port]), got \"" + std::string(url) + "\"");
  }
  if (url.find('@') != std::string_view::npos) {
    return fail("must be https://host[:port] with no path, query or user info, got \"" + std::string(url) + "\"");
  }
  auto parsed = common::parse_url(url, error);
  if (!parsed) return std::nullopt;
  if (parsed->target != "/") {
    return fail("must be https://host[:port] with no path, query or user info, got \"" + std::string(url) + "\"");
  }
  return HttpsEndpoint{std::move(parsed->host), parsed->port};
}

}  // namespace pushgw::h2
