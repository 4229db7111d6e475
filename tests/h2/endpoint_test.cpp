#include "pushgw/h2/endpoint.hpp"

#include <gtest/gtest.h>

namespace pushgw::h2 {
namespace {

TEST(ParseHttpsEndpoint, HostAndDefaultPort) {
  EXPECT_EQ(parse_https_endpoint("https://api.push.apple.com"),
            (HttpsEndpoint{"api.push.apple.com", 443}));
  EXPECT_EQ(parse_https_endpoint("https://api.push.apple.com/"),
            (HttpsEndpoint{"api.push.apple.com", 443}));
}

TEST(ParseHttpsEndpoint, ExplicitPortAndIpv6) {
  EXPECT_EQ(parse_https_endpoint("https://127.0.0.1:8443"), (HttpsEndpoint{"127.0.0.1", 8443}));
  EXPECT_EQ(parse_https_endpoint("https://[::1]:2197"), (HttpsEndpoint{"::1", 2197}));
  EXPECT_EQ(parse_https_endpoint("https://[::1]"), (HttpsEndpoint{"::1", 443}));
}

TEST(ParseHttpsEndpoint, RejectsWithAReason) {
  const auto rejects = [](std::string_view url, std::string_view expected) {
    std::string error;
    EXPECT_FALSE(parse_https_endpoint(url, &error)) << url;
    EXPECT_NE(error.find(expected), std::string::npos) << url << " → " << error;
  };
  rejects("http://api.push.apple.com", "scheme must be https");
  rejects("api.push.apple.com", "scheme must be https");
  rejects("https://", "host is empty");
  rejects("https://host:0", "port must be 1-65535");
  rejects("https://host:65536", "port must be 1-65535");
  rejects("https://host:12x", "port must be 1-65535");
  rejects("https://host:", "empty port");
  rejects("https://host/3/device", "no path");
  rejects("https://user@host", "no path, query or user info");
  rejects("https://[::1", "unterminated");
}

TEST(ParseHttpsEndpoint, ErrorPointerIsOptional) {
  EXPECT_FALSE(parse_https_endpoint("ftp://x"));
}

}  // namespace
}  // namespace pushgw::h2
