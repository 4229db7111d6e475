// pushgw-sim: see docs/simulator.md.

#include <csignal>
#include <cstdio>
#include <string>

#include <pthread.h>

#include "pushgw/sim/cli.hpp"
#include "pushgw/sim/server.hpp"

int main(int argc, char** argv) {
  const auto command_line = pushgw::sim::parse_command_line(argc, argv);
  if (!command_line.options) {
    std::fputs(command_line.message.c_str(), command_line.exit_code == 0 ? stdout : stderr);
    return command_line.exit_code;
  }
  const auto& options = *command_line.options;

  // Block the stop signals before the server threads start, so only sigwait() sees them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  pushgw::sim::Server server(options);
  std::string error;
  if (!server.start(&error)) {
    std::fprintf(stderr, "pushgw-sim: %s\n", error.c_str());
    return 1;
  }
  // Tests started with --listen HOST:0 read the port from this line.
  std::printf("pushgw-sim listening on https://%s:%u (threads %u)\n", options.listen_host.c_str(),
              static_cast<unsigned>(server.port()), options.threads);
  std::fflush(stdout);

  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  server.stop();
  return 0;
}
