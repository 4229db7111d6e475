// End to end: the front door's flood limits in the real daemon, configured from the limits
// section, with a real redis-server.

#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "app/daemon.hpp"
#include "support/eventually.hpp"
#include "support/http_client.hpp"
#include "support/redis_server.hpp"

namespace pushgw::test {
namespace {

using namespace std::chrono_literals;

DaemonOptions flood_options(const RedisServer& redis) {
  DaemonOptions options;
  options.redis_url = redis.url();
  options.api_keys = {"k3y"};
  // Long timeouts: what the tests see must come from the limits under test.
  options.limits_yaml =
      "  max_connections: 4\n"
      "  probe_connections: 2\n"
      "  header_timeout: 1m\n"
      "  read_timeout: 1m\n";
  return options;
}

std::vector<std::unique_ptr<RawConnection>> connect_and_send(std::uint16_t port, int count,
                                                              const std::string& bytes) {
  std::vector<std::unique_ptr<RawConnection>> out;
  for (int i = 0; i < count; ++i) {
    out.push_back(std::make_unique<RawConnection>(port));
    out.back()->send(bytes);
  }
  return out;
}

TEST(HttpLimits, UnderAConnectionFloodProbesAreAnsweredAndRefusalsCounted) {
  RedisServer redis;
  Daemon daemon(flood_options(redis));
  const auto slow = connect_and_send(daemon.port(), 4, "POST /push HTTP/1.1\r\n");  // headers that never end
  // Once the four hold every place, other requests are refused...
  ASSERT_TRUE(eventually([&] { return get(daemon.port(), "/nothing").status == 503; })) << daemon.log();
  // ...while the probes and the scrape still get through.
  EXPECT_EQ(get(daemon.port(), "/healthz").status, 200);
  EXPECT_EQ(get(daemon.port(), "/readyz").status, 200);
  auto metrics = get(daemon.port(), "/metrics");
  ASSERT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.body.find("pushgw_http_requests_total{code=\"503\",route=\"unmatched\"}"), std::string::npos)
      << metrics.body;
}

TEST(HttpLimits, PushWithoutAKeyIsAnsweredBeforeItsBody) {
  RedisServer redis;
  Daemon daemon(flood_options(redis));
  const auto clients = connect_and_send(daemon.port(), 3,
                                        "POST /push HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                                        "Content-Length: 1048575\r\n\r\n{\"notifications\":");
  for (auto& client : clients) EXPECT_EQ(client->read_response(20s).status, 401) << daemon.log();
}

}  // namespace
}  // namespace pushgw::test
