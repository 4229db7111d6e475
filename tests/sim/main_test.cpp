// Runs the pushgw-sim executable itself: its command line, its start-up line, its signals.

#include <gtest/gtest.h>

#include <signal.h>

#include <filesystem>
#include <vector>

#include <boost/asio.hpp>
#include <nlohmann/json.hpp>

#include "pushgw/h2/connection.hpp"
#include "sim/sim_fixture.hpp"
#include "support/eventually.hpp"
#include "support/process.hpp"

namespace pushgw::sim {
namespace {

namespace asio = boost::asio;

// pushgw-sim with `args`, its output in a log file.
test::ChildProcess start_sim(const test::TempDir& dir, std::vector<std::string> args) {
  args.insert(args.begin(), (test::build_dir() / "pushgw-sim").string());
  return test::ChildProcess(std::move(args), dir.path() / "sim.log");
}

// Waits until the output contains `text` followed by the end of its line; returns the output.
std::string output_with_line(test::ChildProcess& child, const std::string& text) {
  std::string output;
  test::eventually([&] {
    output = child.log();
    const auto at = output.find(text);
    return (at != std::string::npos && output.find('\n', at) != std::string::npos) || !child.running();
  }, std::chrono::seconds(30));
  return child.log();
}

TEST(SimMain, ServesUntilSigterm) {
  testing::TestPki pki;
  test::TempDir dir;
  auto child = start_sim(dir, {"--listen", "127.0.0.1:0", "--cert", pki.cert_file, "--key", pki.key_file,
                               "--apns-key", pki.apns_key_file, "--apns-key-id", testing::test_key_id,
                               "--apns-team-id", testing::test_team_id});
  const std::string listening = "listening on https://127.0.0.1:";
  const std::string output = output_with_line(child, listening);
  const auto at = output.find(listening);
  ASSERT_NE(at, std::string::npos) << output;
  const auto port = static_cast<std::uint16_t>(std::stoi(output.substr(at + listening.size())));

  asio::io_context io;
  h2::ConnectionConfig config;
  config.host = "127.0.0.1";
  config.port = port;
  config.ca_file = pki.cert_file;
  h2::Connection connection(io.get_executor(), config);
  const h2::Result result = test::run_until_done(io, [&]() -> asio::awaitable<h2::Result> {
    co_await connection.connect();
    h2::Request request;
    request.method = "GET";
    request.path = "/sim/stats";
    co_return co_await connection.async_request(request, asio::use_awaitable);
  }());
  ASSERT_FALSE(result.ec) << result.ec.message();
  EXPECT_EQ(result.response.status, 200);
  EXPECT_EQ(nlohmann::json::parse(result.response.body)["received"], 0);

  ::kill(child.pid(), SIGTERM);
  EXPECT_EQ(child.wait_exit(std::chrono::seconds(30)), 0) << child.log();
}

TEST(SimMain, BadCommandLinesExitNonZeroWithTheReason) {
  test::TempDir dir;
  auto missing = start_sim(dir, {"--listen", "127.0.0.1:0"});
  EXPECT_NE(missing.wait_exit(std::chrono::seconds(30)).value_or(0), 0);
  const std::string output = missing.log();
  EXPECT_NE(output.find("--cert"), std::string::npos) << output;

  testing::TestPki pki;
  test::TempDir unreadable_dir;
  auto unreadable = start_sim(unreadable_dir, {"--listen", "127.0.0.1:0", "--cert", pki.cert_file, "--key",
                                               pki.key_file, "--apns-key", pki.dir + "/missing.p8"});
  EXPECT_EQ(unreadable.wait_exit(std::chrono::seconds(30)), 1);
  const std::string reason = unreadable.log();
  EXPECT_NE(reason.find("--apns-key " + pki.dir + "/missing.p8: cannot be read"), std::string::npos)
      << reason;
}

}  // namespace
}  // namespace pushgw::sim
