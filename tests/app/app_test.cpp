// End to end: the daemon's lifecycle, its metrics endpoint, and `pushgw check-config`.

#include <gtest/gtest.h>

#include <csignal>
#include <fstream>

#include "app/daemon.hpp"
#include "support/http_client.hpp"
#include "support/redis_server.hpp"

namespace pushgw::test {
namespace {

using namespace std::chrono_literals;

const std::string kToken(64, 'a');

TEST(Metrics, ExpositionPassesPromtoolAndCountsRequests) {
  RedisServer redis;
  Daemon daemon({.redis_url = redis.url()});
  const std::string body = R"({"notifications":[{"platform":"ios","tokens":[")" + kToken + R"("]}]})";
  ASSERT_EQ(post_json(daemon.port(), "/push", body).status, 202);
  ASSERT_EQ(post_json(daemon.port(), "/push", "{}").status, 400);

  auto metrics = get(daemon.port(), "/metrics");
  ASSERT_EQ(metrics.status, 200);
  EXPECT_EQ(metrics.headers["content-type"], "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_NE(metrics.body.find("pushgw_http_requests_total{code=\"202\",route=\"/push\"} 1"), std::string::npos) << metrics.body;
  EXPECT_NE(metrics.body.find("pushgw_http_requests_total{code=\"400\",route=\"/push\"} 1"), std::string::npos);
  EXPECT_NE(metrics.body.find("pushgw_queue_depth{lane=\"default\"} 1"), std::string::npos);
  EXPECT_NE(metrics.body.find("pushgw_jobs_total{outcome=\"enqueued\"} 1"), std::string::npos);
  EXPECT_NE(metrics.body.find("process_resident_memory_bytes"), std::string::npos);
  EXPECT_NE(metrics.body.find("pushgw_http_request_duration_seconds_bucket{route=\"/push\",le=\"+Inf\"} 2"), std::string::npos);

  auto promtool = run_command("promtool check metrics", metrics.body);
  EXPECT_EQ(promtool.exit_code, 0) << promtool.output;
  EXPECT_EQ(promtool.output, "") << promtool.output;
}

TEST(Lifecycle, SigtermFinishesTheRequestInProgressAndExitsZero) {
  RedisServer redis;
  Daemon daemon({.redis_url = redis.url()});
  // A request whose body has only half arrived when SIGTERM comes is still answered.
  const std::string body = R"({"notifications":[{"platform":"ios","tokens":[")" + kToken + R"("]}]})";
  RawConnection client(daemon.port());
  client.send("POST /push HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: " +
              std::to_string(body.size()) + "\r\n\r\n" + body.substr(0, 10));
  RawConnection idle_client(daemon.port());  // connected, no request: closed by the drain
  ::kill(daemon.process().pid(), SIGTERM);
  // The drain closes idle connections at once: when this one is closed, the drain has begun,
  // and the rest of the body arrives during it.
  const auto idle = idle_client.read_response(30s);
  EXPECT_EQ(idle.status, 0);
  EXPECT_EQ(idle.error, "connection closed without a response") << daemon.log();
  client.send(body.substr(10));
  auto response = client.read_response();
  EXPECT_EQ(response.status, 202) << response.error << daemon.log();

  auto code = daemon.process().wait_exit(10s);
  ASSERT_TRUE(code.has_value()) << "pushgw did not exit after SIGTERM";
  EXPECT_EQ(*code, 0) << daemon.log();
  EXPECT_NE(daemon.log().find("drained"), std::string::npos) << daemon.log();
  EXPECT_EQ(SyncRedis(redis).llen("pushgw:{default}:queue"), 1);
}

TEST(CheckConfig, ReportsEveryProblemWithLineAndExitsOne) {
  TempDir dir;
  const auto file = dir.path() / "bad.yaml";
  std::ofstream(file) << "listen: 127.0.0.1:99999\n"
                         "redis:\n"
                         "  url: redis://127.0.0.1:6379/0\n"
                         "  conect_timeout: 2s\n"
                         "apps:\n"
                         "  demo:\n"
                         "    fcm:\n"
                         "      connections: four\n";
  auto result = run_command((build_dir() / "pushgw").string() + " check-config " + file.string());
  EXPECT_EQ(result.exit_code, 1) << result.output;
  EXPECT_NE(result.output.find(file.string() + ":1: listen"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find(":4: redis.conect_timeout"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("connect_timeout"), std::string::npos) << result.output;  // did you mean
  EXPECT_NE(result.output.find(":8: apps.demo.fcm.connections"), std::string::npos) << result.output;
}

TEST(CheckConfig, AcceptsTheShippedConfigs) {
  for (const char* name : {"pushgw.example.yaml", "pushgw.dev.yaml"}) {
    SCOPED_TRACE(name);
    // The dev config names credentials in run/dev, made by the quick start's script.
    const std::string make_credentials = (source_dir() / "scripts/dev-credentials.sh").string() + " " +
                                         (source_dir() / "run/dev").string();
    ASSERT_EQ(std::system(make_credentials.c_str()), 0);
    auto result = run_command("PUSHGW_API_KEY=k PUSHGW_APNS_KEY_FILE=" + (source_dir() / "run/dev/apns-key.p8").string() +
                              " PUSHGW_FCM_SERVICE_ACCOUNT=" + (source_dir() / "run/dev/fcm-service-account.json").string() + " " +
                              (build_dir() / "pushgw").string() + " check-config " + (source_dir() / "config" / name).string());
    EXPECT_EQ(result.exit_code, 0) << result.output;
    EXPECT_NE(result.output.find(": ok"), std::string::npos) << result.output;
  }
}

// Issue 17: a Redis TLS file the daemon could not use is a check-config error, and the daemon
// refuses to start with the same words.
TEST(CheckConfig, ARedisTlsFileThatIsNotPemIsNamed) {
  TempDir dir;
  const auto junk = dir.path() / "redis-ca.pem";
  std::ofstream(junk) << "not a certificate\n";
  DaemonOptions options;
  options.redis_url = "rediss://127.0.0.1:1/0";
  options.redis_yaml = "  tls:\n    ca_file: " + junk.string() + "\n";
  const auto file = dir.path() / "pushgw.yaml";
  std::ofstream(file) << daemon_config_yaml(free_tcp_port(), options);
  const std::string expected = "redis.tls.ca_file " + junk.string() + ": ";

  auto checked = run_command((build_dir() / "pushgw").string() + " check-config " + file.string());
  EXPECT_EQ(checked.exit_code, 1) << checked.output;
  EXPECT_NE(checked.output.find(expected), std::string::npos) << checked.output;

  auto started = run_command((build_dir() / "pushgw").string() + " --config " + file.string());
  EXPECT_EQ(started.exit_code, 1) << started.output;
  EXPECT_NE(started.output.find(expected), std::string::npos) << started.output;
}

TEST(Startup, AnInvalidConfigDoesNotStartAndSaysWhy) {
  TempDir dir;
  const auto file = dir.path() / "bad.yaml";
  std::ofstream(file) << "listen: nowhere\n";
  auto result = run_command((build_dir() / "pushgw").string() + " --config " + file.string());
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.output.find("listen"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("not starting"), std::string::npos) << result.output;
}

}  // namespace
}  // namespace pushgw::test
