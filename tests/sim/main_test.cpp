// Runs the pushgw-sim executable itself: its command line, its start-up line, its signals.

#include <gtest/gtest.h>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <vector>

#include <boost/asio.hpp>
#include <nlohmann/json.hpp>

#include "pushgw/h2/connection.hpp"
#include "sim/sim_fixture.hpp"

extern char** environ;

namespace pushgw::sim {
namespace {

namespace asio = boost::asio;

std::string sim_binary() {
  if (const char* dir = std::getenv("PUSHGW_BUILD_DIR")) return std::string(dir) + "/pushgw-sim";
  // Run directly: this binary is <build>/tests/sim/pushgw_sim_tests.
  const auto self = std::filesystem::read_symlink("/proc/self/exe");
  return (self.parent_path().parent_path().parent_path() / "pushgw-sim").string();
}

// A child process with its stdout and stderr on one pipe.
class Child {
 public:
  explicit Child(std::vector<std::string> args) {
    args.insert(args.begin(), sim_binary());
    int fds[2];
    if (pipe(fds) != 0) throw std::runtime_error("pipe failed");
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&actions, fds[1], STDERR_FILENO);
    posix_spawn_file_actions_addclose(&actions, fds[0]);
    std::vector<char*> argv;
    for (auto& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    const int rc = posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    close(fds[1]);
    output_fd_ = fds[0];
    if (rc != 0) throw std::runtime_error("cannot run " + args[0]);
  }
  ~Child() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    close(output_fd_);
  }

  // Reads output until it contains `text` (a whole line of it) or `timeout` passes; returns
  // the output so far. (No <regex>: GCC 12 warns inside it under the sanitizers.)
  std::string read_until(const std::string& text, std::chrono::seconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    const auto found = [&] {
      const auto at = output_.find(text);
      return at != std::string::npos && output_.find('\n', at) != std::string::npos;
    };
    while (!found() && std::chrono::steady_clock::now() < deadline) {
      pollfd fd{output_fd_, POLLIN, 0};
      if (poll(&fd, 1, 100) <= 0) continue;
      char buffer[512];
      const ssize_t n = read(output_fd_, buffer, sizeof buffer);
      if (n <= 0) break;
      output_.append(buffer, static_cast<size_t>(n));
    }
    return output_;
  }

  int wait_exit() {
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

  void signal(int number) { kill(pid_, number); }

 private:
  pid_t pid_ = -1;
  int output_fd_ = -1;
  std::string output_;
};

TEST(SimMain, ServesUntilSigterm) {
  testing::TestPki pki;
  Child child({"--listen", "127.0.0.1:0", "--cert", pki.cert_file, "--key", pki.key_file,
               "--apns-key", pki.apns_key_file, "--apns-key-id", testing::test_key_id,
               "--apns-team-id", testing::test_team_id});
  const std::string listening = "listening on https://127.0.0.1:";
  const std::string output = child.read_until(listening, std::chrono::seconds(30));
  const auto at = output.find(listening);
  ASSERT_NE(at, std::string::npos) << output;
  const auto port = static_cast<std::uint16_t>(std::stoi(output.substr(at + listening.size())));

  asio::io_context io;
  h2::ConnectionConfig config;
  config.host = "127.0.0.1";
  config.port = port;
  config.ca_file = pki.cert_file;
  h2::Connection connection(io.get_executor(), config);
  const h2::Result result = testing::run_until_done(io, [&]() -> asio::awaitable<h2::Result> {
    co_await connection.connect();
    h2::Request request;
    request.method = "GET";
    request.path = "/sim/stats";
    co_return co_await connection.request(request);
  }());
  ASSERT_FALSE(result.ec) << result.ec.message();
  EXPECT_EQ(result.response.status, 200);
  EXPECT_EQ(nlohmann::json::parse(result.response.body)["received"], 0);

  child.signal(SIGTERM);
  EXPECT_EQ(child.wait_exit(), 0);
}

TEST(SimMain, BadCommandLinesExitNonZeroWithTheReason) {
  Child missing({"--listen", "127.0.0.1:0"});
  const std::string output = missing.read_until("--cert", std::chrono::seconds(30));
  EXPECT_NE(missing.wait_exit(), 0);
  EXPECT_NE(output.find("--cert"), std::string::npos) << output;

  testing::TestPki pki;
  Child unreadable({"--listen", "127.0.0.1:0", "--cert", pki.cert_file, "--key", pki.key_file,
                    "--apns-key", pki.dir + "/missing.p8"});
  const std::string reason = unreadable.read_until("missing.p8", std::chrono::seconds(30));
  EXPECT_EQ(unreadable.wait_exit(), 1);
  EXPECT_NE(reason.find("--apns-key " + pki.dir + "/missing.p8: cannot be read"), std::string::npos)
      << reason;
}

}  // namespace
}  // namespace pushgw::sim
