#pragma once
// Redis Cluster's routing rules, without I/O: which argument of a command is its key, which of
// the 16384 slots a key hashes to, what a redirect error says, and the slot map that
// CLUSTER SLOTS answers. The cluster client (cluster.cpp) is wiring around these.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pushgw/config/config.hpp"
#include "pushgw/redis/reply.hpp"

namespace pushgw::redis {

inline constexpr std::size_t kClusterSlots = 16384;

// The slot of `key`: CRC16 (XMODEM) of its hash tag (what is between the first "{" and the
// first "}" after it, when not empty), else of the whole key, modulo 16384.
std::uint16_t key_slot(std::string_view key);

// Whether a command's name is `name`, as Redis compares them (ignoring case).
bool is_command(std::string_view command, std::string_view name);

// Which argument of `argv` (argv[0] is the command) routes it: argv[1] for most commands, the
// first key of EVAL/EVALSHA/FCALL (none when numkeys is 0), the shard channel of
// SSUBSCRIBE/SUNSUBSCRIBE/SPUBLISH; nullopt for commands without a key (PING, MULTI, EXEC,
// SCRIPT, CLUSTER, INFO, SUBSCRIBE...), which any node may answer.
std::optional<std::size_t> routing_argument(const std::vector<std::string_view>& argv);

// A redirection or a transient refusal from a cluster node. `MOVED 3999 127.0.0.1:6381` (the
// slot lives elsewhere now: update the map), `ASK 3999 127.0.0.1:6381` (being migrated: ask
// that node once, after ASKING), `TRYAGAIN ...` (a multi-key command during a migration) and
// `CLUSTERDOWN ...` (the cluster cannot serve now): try again shortly.
struct Redirect {
  enum class Kind { moved, ask, try_again, cluster_down };
  Kind kind = Kind::moved;
  std::uint16_t slot = 0;   // moved, ask
  config::HostPort node;    // moved, ask; an empty host means "the node that answered"
};
// The redirect `reply` is, or nullopt when it is not an error of these kinds (or a malformed one).
std::optional<Redirect> parse_redirect(const Reply& reply);

// One range of slots and the master that serves it.
struct SlotRange {
  std::uint16_t first = 0;
  std::uint16_t last = 0;
  config::HostPort master;
  bool operator==(const SlotRange&) const = default;
};

struct SlotMapResult {
  std::vector<SlotRange> ranges;
  std::string error;  // set when the reply is not a usable slot map (says what is wrong)
};
// The ranges of a CLUSTER SLOTS reply ([[first, last, [host, port, id, ...], replicas...], ...]).
// A master listed with an empty host or "?" is at `asked`'s host (Redis's rule for a node that
// does not know its own address). An error reply (e.g. "ERR This instance has cluster support
// disabled") is returned as the error, quoted.
SlotMapResult parse_cluster_slots(const Reply& reply, const config::HostPort& asked);

// Which master serves each slot: indices into masters(), or -1 while a slot is not covered.
class SlotMap {
 public:
  SlotMap();
  // Replaces the map with `ranges` (slots they leave out become uncovered).
  void assign(const std::vector<SlotRange>& ranges);
  // One slot moved (a MOVED reply); its master is added when new.
  void move(std::uint16_t slot, const config::HostPort& master);

  // The master of `slot`, or nullptr while it is not covered.
  const config::HostPort* master_of(std::uint16_t slot) const;
  const std::vector<config::HostPort>& masters() const { return masters_; }
  // Slots served by a master (16384 when the cluster is whole).
  std::size_t covered() const { return covered_; }
  bool empty() const { return masters_.empty(); }

 private:
  std::size_t index_of(const config::HostPort& master);
  std::vector<config::HostPort> masters_;
  std::array<std::int16_t, kClusterSlots> owner_{};
  std::size_t covered_ = 0;
};

}  // namespace pushgw::redis
