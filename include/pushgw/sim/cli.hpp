#pragma once
// pushgw-sim's command line → ServerOptions (CLI11).

#include <optional>
#include <string>

#include "pushgw/sim/server.hpp"

namespace pushgw::sim {

struct CommandLine {
  std::optional<ServerOptions> options;  // set when the server should run
  int exit_code = 0;                     // otherwise: exit with this...
  std::string message;                   // ...after printing this (help, or what is wrong)
};

CommandLine parse_command_line(int argc, const char* const* argv);

// "HOST:PORT" or "[IPv6]:PORT" → host and port; false with *error on bad input.
bool parse_listen(const std::string& text, std::string* host, std::uint16_t* port,
                  std::string* error);

}  // namespace pushgw::sim
