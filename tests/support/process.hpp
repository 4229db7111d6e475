#pragma once
// Helpers for tests that run real processes and talk to them over loopback TCP.
// Plain POSIX (no Asio), so any test can link them cheaply.

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace pushgw::test {

using namespace std::chrono_literals;

// A child process started with posix_spawn. stdout and stderr go (appended) to log_file.
// The destructor kills it (SIGKILL) if it is still running, so a failing test leaves no
// stray servers behind.
class ChildProcess {
 public:
  // argv[0] is looked up on PATH unless it contains a '/'. `extra_env` adds to (or
  // overrides) this process's environment. Throws std::runtime_error naming the program when
  // it cannot be started.
  ChildProcess(std::vector<std::string> argv, std::filesystem::path log_file,
               std::map<std::string, std::string> extra_env = {});
  ~ChildProcess();
  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess& operator=(ChildProcess&& other) noexcept;
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  const std::filesystem::path& log_file() const { return log_file_; }
  // The whole log so far (to put in a failure message).
  std::string log() const;

  // True until the process has exited (and been reaped).
  bool running();
  // Waits up to `timeout` for the process to exit. The result is its exit code, or 128 + the
  // signal number when a signal ended it (the shell's convention); nullopt on timeout.
  std::optional<int> wait_exit(std::chrono::milliseconds timeout);
  // SIGTERM, then waits up to `timeout`; SIGKILL if it is still running then.
  std::optional<int> terminate(std::chrono::milliseconds timeout = 10s);
  // SIGKILL and reap.
  void kill();

 private:
  void reap_blocking();

  pid_t pid_ = -1;
  std::optional<int> exit_status_;
  std::filesystem::path log_file_;
};

// A unique directory under $TMPDIR (or /tmp), removed with everything in it on destruction.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "pushgw-test");
  ~TempDir();
  TempDir(TempDir&& other) noexcept;
  TempDir& operator=(TempDir&& other) noexcept;
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

TempDir temp_dir(const std::string& prefix = "pushgw-test");

// A TCP port on 127.0.0.1 that was free a moment ago (bind to port 0, read it, close).
std::uint16_t free_tcp_port();
// Polls until something accepts connections on 127.0.0.1:port; false on timeout.
bool wait_for_port(std::uint16_t port, std::chrono::milliseconds timeout);
// The environment variable, or `fallback` when it is unset.
std::string env_or(const std::string& name, const std::string& fallback);

// The repository and build folders: PUSHGW_SOURCE_DIR and PUSHGW_BUILD_DIR as ctest sets
// them; run by hand, the folders this file and the test binary (<build>/tests/<module>/) are in.
std::filesystem::path source_dir();
std::filesystem::path build_dir();

// What a shell command printed (stdout and stderr) and its exit code (-1 when it did not exit
// normally).
struct CommandResult {
  int exit_code = -1;
  std::string output;
};
// Runs `command` with /bin/sh, `input` on its stdin, and waits for it to exit.
CommandResult run_command(const std::string& command, const std::string& input = {});

}  // namespace pushgw::test
