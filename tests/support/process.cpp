#include "support/process.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <system_error>
#include <thread>
#include <utility>

extern char** environ;

namespace pushgw::test {

namespace {

std::runtime_error errno_error(const std::string& what, int code) {
  return std::runtime_error(what + ": " + std::strerror(code));
}

// posix_spawn attributes and file actions, released however spawning ends.
struct SpawnSetup {
  posix_spawn_file_actions_t actions{};
  posix_spawnattr_t attributes{};

  SpawnSetup() {
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attributes);
  }
  ~SpawnSetup() {
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attributes);
  }
  SpawnSetup(const SpawnSetup&) = delete;
  SpawnSetup& operator=(const SpawnSetup&) = delete;
};

std::vector<std::string> merged_environment(const std::map<std::string, std::string>& extra) {
  std::vector<std::string> entries;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    const std::string text(*entry);
    const std::string name = text.substr(0, text.find('='));
    if (extra.find(name) == extra.end()) {
      entries.push_back(text);
    }
  }
  for (const auto& [name, value] : extra) {
    entries.push_back(name + "=" + value);
  }
  return entries;
}

std::vector<char*> c_strings(std::vector<std::string>& strings) {
  std::vector<char*> pointers;
  pointers.reserve(strings.size() + 1);
  for (std::string& s : strings) {
    pointers.push_back(s.data());
  }
  pointers.push_back(nullptr);
  return pointers;
}

int decode_wait_status(int status) {
  if (WIFEXITED(status)) {
    return WEXITSTATUS(status);
  }
  if (WIFSIGNALED(status)) {
    return 128 + WTERMSIG(status);
  }
  return -1;
}

}  // namespace

ChildProcess::ChildProcess(std::vector<std::string> argv, std::filesystem::path log_file,
                           std::map<std::string, std::string> extra_env)
    : log_file_(std::move(log_file)) {
  if (argv.empty()) {
    throw std::invalid_argument("ChildProcess: empty argv");
  }
  SpawnSetup setup;
  // stdout and stderr to the log; nothing else of ours (sockets, listeners) leaks into the
  // child, where it would keep ports busy after the test closes them.
  posix_spawn_file_actions_addopen(&setup.actions, STDOUT_FILENO, log_file_.c_str(),
                                   O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&setup.actions, STDOUT_FILENO, STDERR_FILENO);
  posix_spawn_file_actions_addopen(&setup.actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addclosefrom_np(&setup.actions, STDERR_FILENO + 1);

  // Signals this process ignores or blocks must not be ignored or blocked in the child.
  sigset_t defaults;
  sigemptyset(&defaults);
  for (int sig : {SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGCHLD, SIGUSR1, SIGUSR2}) {
    sigaddset(&defaults, sig);
  }
  sigset_t no_mask;
  sigemptyset(&no_mask);
  posix_spawnattr_setsigdefault(&setup.attributes, &defaults);
  posix_spawnattr_setsigmask(&setup.attributes, &no_mask);
  posix_spawnattr_setflags(&setup.attributes, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);

  std::vector<std::string> environment = merged_environment(extra_env);
  std::vector<char*> env_pointers = c_strings(environment);
  std::vector<char*> argv_pointers = c_strings(argv);

  pid_t pid = -1;
  const int rc = posix_spawnp(&pid, argv[0].c_str(), &setup.actions, &setup.attributes,
                              argv_pointers.data(), env_pointers.data());
  if (rc != 0) {
    throw errno_error("cannot start " + argv[0] + " (log " + log_file_.string() + ")", rc);
  }
  pid_ = pid;
}

ChildProcess::~ChildProcess() {
  if (pid_ > 0 && !exit_status_) {
    kill();
  }
}

ChildProcess::ChildProcess(ChildProcess&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)),
      exit_status_(std::exchange(other.exit_status_, std::nullopt)),
      log_file_(std::move(other.log_file_)) {}

ChildProcess& ChildProcess::operator=(ChildProcess&& other) noexcept {
  if (this != &other) {
    if (pid_ > 0 && !exit_status_) {
      kill();
    }
    pid_ = std::exchange(other.pid_, -1);
    exit_status_ = std::exchange(other.exit_status_, std::nullopt);
    log_file_ = std::move(other.log_file_);
  }
  return *this;
}

std::string ChildProcess::log() const {
  std::ifstream in(log_file_, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

bool ChildProcess::running() { return pid_ > 0 && !wait_exit(0ms); }

std::optional<int> ChildProcess::wait_exit(std::chrono::milliseconds timeout) {
  if (exit_status_ || pid_ <= 0) {
    return exit_status_;
  }
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int status = 0;
    const pid_t rc = ::waitpid(pid_, &status, WNOHANG);
    if (rc == pid_) {
      exit_status_ = decode_wait_status(status);
      return exit_status_;
    }
    if (rc < 0 && errno != EINTR) {
      exit_status_ = -1;  // not our child any more (reaped elsewhere): treat as gone
      return exit_status_;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return std::nullopt;
    }
    std::this_thread::sleep_for(10ms);
  }
}

std::optional<int> ChildProcess::terminate(std::chrono::milliseconds timeout) {
  if (pid_ <= 0 || exit_status_) {
    return exit_status_;
  }
  ::kill(pid_, SIGTERM);
  if (auto status = wait_exit(timeout)) {
    return status;
  }
  kill();
  return exit_status_;
}

void ChildProcess::kill() {
  if (pid_ <= 0 || exit_status_) {
    return;
  }
  ::kill(pid_, SIGKILL);
  reap_blocking();
}

void ChildProcess::reap_blocking() {
  int status = 0;
  pid_t rc = -1;
  do {
    rc = ::waitpid(pid_, &status, 0);
  } while (rc < 0 && errno == EINTR);
  exit_status_ = rc == pid_ ? decode_wait_status(status) : -1;
}

TempDir::TempDir(const std::string& prefix) {
  std::string base = env_or("TMPDIR", "/tmp");
  if (base.empty()) {
    base = "/tmp";
  }
  std::string pattern = (std::filesystem::path(base) / (prefix + "-XXXXXX")).string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    throw errno_error("cannot create a temporary directory " + pattern, errno);
  }
  path_ = pattern;
}

TempDir::~TempDir() {
  if (!path_.empty()) {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
}

TempDir::TempDir(TempDir&& other) noexcept : path_(std::exchange(other.path_, {})) {}

TempDir& TempDir::operator=(TempDir&& other) noexcept {
  if (this != &other) {
    if (!path_.empty()) {
      std::error_code ignored;
      std::filesystem::remove_all(path_, ignored);
    }
    path_ = std::exchange(other.path_, {});
  }
  return *this;
}

TempDir temp_dir(const std::string& prefix) { return TempDir(prefix); }

namespace {

// A socket descriptor closed on scope exit.
struct Socket {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ~Socket() {
    if (fd >= 0) {
      ::close(fd);
    }
  }
  Socket() = default;
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
};

sockaddr_in loopback(std::uint16_t port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return address;
}

}  // namespace

std::uint16_t free_tcp_port() {
  Socket s;
  if (s.fd < 0) {
    throw errno_error("free_tcp_port: socket", errno);
  }
  sockaddr_in address = loopback(0);
  if (::bind(s.fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    throw errno_error("free_tcp_port: bind 127.0.0.1:0", errno);
  }
  socklen_t length = sizeof address;
  if (::getsockname(s.fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    throw errno_error("free_tcp_port: getsockname", errno);
  }
  return ntohs(address.sin_port);
}

bool wait_for_port(std::uint16_t port, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    Socket s;
    sockaddr_in address = loopback(port);
    if (s.fd >= 0 &&
        ::connect(s.fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0) {
      return true;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return false;
    }
    std::this_thread::sleep_for(20ms);
  }
}

std::string env_or(const std::string& name, const std::string& fallback) {
  const char* value = std::getenv(name.c_str());
  return value != nullptr ? std::string(value) : fallback;
}

std::filesystem::path source_dir() {
  if (const char* dir = std::getenv("PUSHGW_SOURCE_DIR")) return dir;
  return std::filesystem::path(__FILE__).parent_path().parent_path().parent_path();
}

std::filesystem::path build_dir() {
  if (const char* dir = std::getenv("PUSHGW_BUILD_DIR")) return dir;
  return std::filesystem::read_symlink("/proc/self/exe").parent_path().parent_path().parent_path();
}

CommandResult run_command(const std::string& command, const std::string& input) {
  CommandResult result;
  TempDir dir;
  const auto input_file = dir.path() / "stdin";
  std::ofstream(input_file) << input;
  const std::string full = command + " <" + input_file.string() + " 2>&1";
  FILE* pipe = ::popen(full.c_str(), "r");
  if (!pipe) return result;
  std::array<char, 4096> buffer{};
  while (auto n = std::fread(buffer.data(), 1, buffer.size(), pipe)) result.output.append(buffer.data(), n);
  const int status = ::pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

}  // namespace pushgw::test
