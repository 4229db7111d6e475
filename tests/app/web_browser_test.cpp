// The example page (examples/web/index.html with pushgw-live.js) in a real headless Chromium,
// driven by tests/browser/live_web_test.mjs (playwright-core): it receives notifications over
// EventSource and WebSocket from instance A, including after forced reconnects, then resumes
// on instance B. scripts/setup.sh installs chromium and the npm modules.

#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "daemon.hpp"
#include "support/process.hpp"
#include "support/redis_server.hpp"
#include "support/sim_process.hpp"

namespace pushgw::test {
namespace {

using namespace std::chrono_literals;

TEST(WebBrowser, TheExamplePageReceivesOverEventSourceAndWebSocketAcrossReconnects) {
  const std::string secret = "a-web-secret-of-at-least-32-bytes-for-the-browser";
  const std::string api_key = "browser-test-key";
  RedisServer redis;
  SimProcess sim;
  auto options = [&](const std::string& instance) {
    DaemonOptions o;
    o.redis_url = redis.url();
    o.consume = true;
    o.instance_id = instance;
    o.api_keys = {api_key};
    o.provider_endpoint = sim.endpoint();
    o.fcm_service_account = sim.service_account_file();
    o.extra_yaml = "web:\n  enabled: true\n  secret: " + secret + "\n";
    return o;
  };
  Daemon a(options("a"));
  Daemon b(options("b"));

  TempDir dir;
  const auto script = source_dir() / "tests" / "browser" / "live_web_test.mjs";
  ChildProcess node({"node", script.string(), "--a", "http://127.0.0.1:" + std::to_string(a.port()), "--b",
                     "http://127.0.0.1:" + std::to_string(b.port()), "--api-key", api_key, "--secret", secret},
                    dir.path() / "browser.log", {{"SCREENSHOT", (dir.path() / "failure.png").string()}});
  const auto exit_code = node.wait_exit(180s);
  if (!exit_code) node.kill();
  ASSERT_TRUE(exit_code) << "the browser test did not finish in 180 s\n" << node.log();
  EXPECT_NE(*exit_code, 77) << "chromium or tests/browser/node_modules is missing: run scripts/setup.sh\n" << node.log();
  EXPECT_EQ(*exit_code, 0) << node.log() << "\n--- A ---\n" << a.log() << "\n--- B ---\n" << b.log();
}

}  // namespace
}  // namespace pushgw::test
