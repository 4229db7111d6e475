#pragma once
// `pushgw dlq list|replay|purge` (DESIGN.md §5 "Commands"): look at the dead-letter lists, put
// entries back on their queues, or delete them, chosen by lane and reason, up to a limit, with
// a dry run. Bad options, an entry whose job cannot be read (for replay) and an unreachable
// Redis each get a message and a non-zero exit, with nothing moved or deleted.

#include <cstddef>
#include <iosfwd>
#include <string>

#include "pushgw/config/config.hpp"

namespace pushgw::app {

struct DlqOptions {
  std::string action;   // list | replay | purge
  std::string lane;     // "" = every lane
  std::string reason;   // "" = every reason
  std::size_t limit = 0;  // per lane; 0 = all
  bool dry_run = false;   // replay and purge: say what would be done
  bool json = false;      // list: the entries as JSON lines instead of a table
};

// Returns the exit code: 0 done, 1 Redis failed or an entry cannot be replayed, 2 bad options.
int dlq(const config::Config& config, const DlqOptions& options, std::ostream& out, std::ostream& err);

}  // namespace pushgw::app
