#pragma once
// The dead-letter lists, for `pushgw dlq` (DESIGN.md §5 "Commands"): read an entry, choose
// entries by lane and reason, and move them back to their queue (replay) or delete them
// (purge), one entry at a time in one script each, so an entry is never both replayed and left,
// nor replayed twice.
//
// An entry is what dead_letter_entry() wrote (element.hpp): {"reason","error","lane",
// "instance","at", "job" | "raw"}. A replay puts `job` back at the consumer end of its lane's
// queue with each notification's attempts and redeliveries reset to 0 (its job id kept, so an
// idempotency claim it made still holds). An entry whose job cannot be read (a `raw` element, or
// a `job` that does not decode) cannot be replayed.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/system/error_code.hpp>

#include "pushgw/queue/element.hpp"
#include "pushgw/queue/keys.hpp"
#include "pushgw/queue/lane.hpp"
#include "pushgw/redis/client.hpp"

namespace pushgw::queue {

struct DeadEntry {
  std::string text;      // the list element, exactly (to remove it)
  std::string reason;    // as stored; one of DeadReason's names for entries pushgw wrote
  std::string error;
  std::string lane;
  std::string instance;
  std::int64_t at_ms = 0;
  std::string job_id;    // job.id of a stored job; "" for a producer's element
  // The element to put back (attempts reset), or why there is none.
  std::optional<std::string> replay;
  std::string unreadable;  // set when !replay
};

// Reads one entry; never throws. An entry that is not a JSON object still comes back (reason
// "", unreadable set), so that it can be listed and purged.
DeadEntry read_dead_entry(std::string text);

// The element to replay for a job JSON value: each notification's job.attempt and
// job.redeliveries set to 0. The error text when it does not decode.
std::variant<std::string, std::string> replay_element(const nlohmann::json& job);

// Which entries a command takes.
struct DeadFilter {
  std::optional<DeadReason> reason;
  std::size_t limit = 0;  // 0 = all
  bool matches(const DeadEntry& entry) const;
};

class DeadLetters {
 public:
  DeadLetters(redis::Client& redis, Keys keys) : redis_(redis), keys_(std::move(keys)) {}

  // The entries of `lane` that match, oldest first (the list's tail), up to filter.limit.
  boost::asio::awaitable<std::pair<boost::system::error_code, std::vector<DeadEntry>>> list(Lane lane,
                                                                                            DeadFilter filter);
  // Moves each entry (from list(), oldest first) back to its lane's queue: removes one copy
  // from the dead list and, only if it was there, RPUSHes its replay element at the consumer
  // end, so they are taken next, the oldest first. Returns how many moved
  // (entries already gone, e.g. replayed by someone else meanwhile, are skipped). Entries
  // without a replay element must not be passed.
  boost::asio::awaitable<std::pair<boost::system::error_code, std::size_t>> replay(Lane lane,
                                                                                   const std::vector<DeadEntry>& entries);
  // Removes each entry; returns how many were there.
  boost::asio::awaitable<std::pair<boost::system::error_code, std::size_t>> purge(Lane lane,
                                                                                  const std::vector<DeadEntry>& entries);

 private:
  redis::Client& redis_;
  Keys keys_;
};

}  // namespace pushgw::queue
