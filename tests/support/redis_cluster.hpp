#pragma once
// Redis Cluster for tests: N masters (real redis-server processes with --cluster-enabled yes,
// each on a free loopback port and a free cluster-bus port, appendonly off), the 16384 slots
// split evenly (CLUSTER ADDSLOTSRANGE) and joined by CLUSTER MEET. Also moves slots between
// masters the way `redis-cli --cluster reshard` does (SETSLOT IMPORTING/MIGRATING, MIGRATE,
// SETSLOT NODE), in steps, so that a test can act while a slot is half moved (ASK replies).

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "support/redis_server.hpp"

namespace pushgw::test {

class RedisCluster {
 public:
  // Starts the masters and waits until every one says cluster_state:ok. Throws on a timeout.
  explicit RedisCluster(std::size_t masters = 3);

  std::size_t size() const { return nodes_.size(); }
  RedisServer& node(std::size_t i) { return *nodes_.at(i); }
  // For redis.cluster.nodes: ["127.0.0.1:P", "127.0.0.1:Q", ...].
  std::string seeds_yaml() const;

  // The slot of `key` (CLUSTER KEYSLOT) and the node serving `slot` now (by node 0's view).
  std::uint16_t slot_of(const std::string& key);
  std::size_t owner_of(std::uint16_t slot);

  // Moving a slot to node `to`, in three steps: begin (the target IMPORTING, the source
  // MIGRATING: from here the source answers ASK for the slot's keys it no longer has),
  // migrate_keys (MIGRATE up to `max` of its keys; returns how many moved), finish (the rest,
  // then SETSLOT NODE on every master: from here the source answers MOVED).
  void begin_migration(std::uint16_t slot, std::size_t to);
  std::size_t migrate_keys(std::uint16_t slot, std::size_t max);
  void finish_migration(std::uint16_t slot);

  // Keys in the whole cluster (DBSIZE summed).
  long long total_keys();

 private:
  std::vector<std::unique_ptr<RedisServer>> nodes_;
  std::vector<std::uint16_t> bus_ports_;
  std::vector<std::string> ids_;
  struct Migration {
    std::uint16_t slot = 0;
    std::size_t from = 0;
    std::size_t to = 0;
  };
  std::vector<Migration> migrations_;
};

}  // namespace pushgw::test
