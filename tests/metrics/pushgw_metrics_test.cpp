#include "pushgw/metrics/pushgw_metrics.hpp"

#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>

extern char** environ;

namespace pushgw::metrics {
namespace {

struct ProgramResult {
  int exit_status = -1;
  std::string output;  // stdout and stderr together
};

std::string find_in_path(const std::string& program) {
  const char* path = std::getenv("PATH");
  std::string dirs = path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin";
  std::size_t start = 0;
  while (start <= dirs.size()) {
    std::size_t end = dirs.find(':', start);
    if (end == std::string::npos) end = dirs.size();
    std::filesystem::path candidate = std::filesystem::path(dirs.substr(start, end - start)) / program;
    if (access(candidate.c_str(), X_OK) == 0) return candidate.string();
    start = end + 1;
  }
  return {};
}

// Runs `program args...` with `input` on its stdin, collecting stdout+stderr.
ProgramResult run_with_stdin(const std::string& program, std::vector<std::string> args, const std::string& input) {
  ProgramResult result;
  int in_pipe[2], out_pipe[2];
  if (pipe(in_pipe) != 0) return {-1, "pipe failed"};
  if (pipe(out_pipe) != 0) {
    close(in_pipe[0]);
    close(in_pipe[1]);
    return {-1, "pipe failed"};
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in_pipe[0], 0);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 2);
  for (int fd : {in_pipe[0], in_pipe[1], out_pipe[0], out_pipe[1]}) posix_spawn_file_actions_addclose(&actions, fd);

  std::vector<char*> argv;
  args.insert(args.begin(), program);
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, program.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(in_pipe[0]);
  close(out_pipe[1]);
  if (rc != 0) {
    close(in_pipe[1]);
    close(out_pipe[0]);
    result.output = "posix_spawn failed: " + std::to_string(rc);
    return result;
  }
  // The exposition is far smaller than a pipe buffer plus what promtool reads before
  // answering, so writing everything first and reading after cannot deadlock.
  std::size_t written = 0;
  while (written < input.size()) {
    const ssize_t n = write(in_pipe[1], input.data() + written, input.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    written += static_cast<std::size_t>(n);
  }
  close(in_pipe[1]);
  std::array<char, 4096> buf;
  for (;;) {
    const ssize_t n = read(out_pipe[0], buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    result.output.append(buf.data(), static_cast<std::size_t>(n));
  }
  close(out_pipe[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

ProgramResult promtool_check(const std::string& exposition) {
  const std::string promtool = find_in_path("promtool");
  if (promtool.empty()) {
    ADD_FAILURE() << "promtool not found in PATH (Debian package prometheus; CI installs it)";
    return {};
  }
  return run_with_stdin(promtool, {"check", "metrics"}, exposition);
}

TEST(PushgwMetrics, RegistersEveryDesignMetricWithItsType) {
  Registry registry;
  PushgwMetrics metrics(registry);
  const std::string text = registry.render();
  for (const char* line : {
           "# TYPE pushgw_notifications_total counter",
           "# TYPE pushgw_send_duration_seconds histogram",
           "# TYPE pushgw_queue_depth gauge",
           "# TYPE pushgw_processing_depth gauge",
           "# TYPE pushgw_retry_depth gauge",
           "# TYPE pushgw_dead_letters_total counter",
           "# TYPE pushgw_inflight_sends gauge",
           "# TYPE pushgw_h2_connections gauge",
           "# TYPE pushgw_tokens_marked_inactive_total counter",
           "# TYPE pushgw_tokens_skipped_inactive_total counter",
           "# TYPE pushgw_http_requests_total counter",
           "# TYPE pushgw_http_request_duration_seconds histogram",
           "# TYPE pushgw_jobs_total counter",
           "# TYPE pushgw_provider_healthy gauge",
           "# TYPE pushgw_breaker_state gauge",
           "# TYPE pushgw_breaker_opened_total counter",
           "# TYPE pushgw_app_jobs_sending gauge",
           "# TYPE pushgw_sends_rate_limited_total counter",
           "# TYPE process_resident_memory_bytes gauge",
           "# TYPE process_cpu_seconds_total counter",
           "# TYPE process_open_fds gauge",
       }) {
    EXPECT_NE(text.find(std::string(line) + "\n"), std::string::npos) << line;
  }
}

TEST(PushgwMetrics, LabelNamesMatchTheDesign) {
  Registry registry;
  PushgwMetrics m(registry);
  using L = std::vector<std::string>;
  EXPECT_EQ(m.notifications.label_names(), (L{"app", "platform", "outcome"}));
  EXPECT_EQ(m.send_duration.label_names(), (L{"platform"}));
  EXPECT_EQ(m.queue_depth.label_names(), (L{"lane"}));
  EXPECT_EQ(m.processing_depth.label_names(), (L{"lane"}));
  EXPECT_EQ(m.retry_depth.label_names(), (L{"lane"}));
  EXPECT_EQ(m.dead_letters.label_names(), (L{"lane", "reason"}));
  EXPECT_EQ(m.inflight_sends.label_names(), (L{"platform"}));
  EXPECT_EQ(m.h2_connections.label_names(), (L{"app", "platform", "state"}));
  EXPECT_EQ(m.tokens_marked_inactive.label_names(), (L{"platform", "reason"}));
  EXPECT_EQ(m.tokens_skipped_inactive.label_names(), (L{"platform"}));
  EXPECT_EQ(m.http_requests.label_names(), (L{"route", "code"}));
  EXPECT_EQ(m.http_request_duration.label_names(), (L{"route"}));
  EXPECT_EQ(m.jobs.label_names(), (L{"outcome"}));
  EXPECT_EQ(m.provider_healthy.label_names(), (L{"app", "platform"}));
}

TEST(PushgwMetrics, TwoInstancesOnOneRegistryShareFamilies) {
  Registry registry;
  PushgwMetrics a(registry);
  PushgwMetrics b(registry);
  a.jobs.with({"delivered"}).inc();
  EXPECT_EQ(b.jobs.with({"delivered"}).value(), 1);
}

TEST(PushgwMetrics, EmptyExpositionPassesPromtool) {
  Registry registry;
  PushgwMetrics metrics(registry);
  const ProgramResult result = promtool_check(registry.render());
  EXPECT_EQ(result.exit_status, 0) << result.output;
  EXPECT_EQ(result.output, "");
}

TEST(PushgwMetrics, ExpositionWithSeriesPassesPromtool) {
  Registry registry;
  PushgwMetrics m(registry);
  m.notifications.with({"demo", "ios", "delivered"}).inc(12);
  m.notifications.with({"demo", "android", "token_dead"}).inc();
  m.send_duration.with({"ios"}).observe(0.012);
  m.send_duration.with({"android"}).observe(20);  // beyond the last bucket
  m.queue_depth.with({"default"}).set(120);
  m.processing_depth.with({"high"}).set(3);
  m.retry_depth.with({"bulk"}).set(0);
  m.dead_letters.with({"default", "BadTopic \"quoted\"\nnext line \\ backslash"}).inc();
  m.inflight_sends.with({"ios"}).set(250);
  m.h2_connections.with({"demo", "ios", "connected"}).set(4);
  m.tokens_marked_inactive.with({"ios", "Unregistered"}).inc();
  m.tokens_skipped_inactive.with({"android"}).inc(7);
  m.http_requests.with({"/push", "202"}).inc();
  m.http_requests.with({"/push", "400"}).inc();
  m.http_request_duration.with({"/push"}).observe(0.0001);
  m.jobs.with({"delivered"}).inc();
  // Odd values promtool must still parse.
  registry.gauge("test_special_values", "Infinities, NaN and large numbers.", {"kind"});
  auto& special = registry.gauge("test_special_values", "Infinities, NaN and large numbers.", {"kind"});
  special.with({"pos_inf"}).set(std::numeric_limits<double>::infinity());
  special.with({"neg_inf"}).set(-std::numeric_limits<double>::infinity());
  special.with({"nan"}).set(std::numeric_limits<double>::quiet_NaN());
  special.with({"large"}).set(1e300);
  special.with({"utf8 \xC3\xA9 and invalid \xFF"}).set(1);

  const std::string text = registry.render();
  const ProgramResult result = promtool_check(text);
  EXPECT_EQ(result.exit_status, 0) << result.output << "\n--- exposition ---\n" << text;
  EXPECT_EQ(result.output, "") << text;
}

TEST(PushgwMetrics, PromtoolCheckIsNotVacuous) {
  // A counter without _total is a problem promtool reports: proves the check can fail.
  const ProgramResult result = promtool_check("# HELP bad_counter x\n# TYPE bad_counter counter\nbad_counter 1\n");
  EXPECT_NE(result.exit_status, 0);
  EXPECT_NE(result.output.find("_total"), std::string::npos) << result.output;
}

}  // namespace
}  // namespace pushgw::metrics
