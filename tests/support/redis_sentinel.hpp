#pragma once
// Redis Sentinel for tests: a master and a replica (appendonly yes) and three sentinels that
// watch them as "mymaster" with a quorum of two and a one-second down-after, all real
// redis-server processes on free loopback ports.

#include <memory>
#include <string>
#include <vector>

#include "support/redis_server.hpp"

namespace pushgw::test {

class RedisSentinelSet {
 public:
  static constexpr const char* kMaster = "mymaster";

  // Starts everything and waits until the replica is in sync and every sentinel knows the
  // replica and the other sentinels (so that a failover can be voted). Throws on a timeout.
  RedisSentinelSet();

  RedisServer& master() { return *master_; }
  RedisServer& replica() { return *replica_; }
  // The sentinels' ports (all on 127.0.0.1), and as a YAML flow list for redis.sentinel.nodes:
  // ["127.0.0.1:P", "127.0.0.1:Q", "127.0.0.1:R"].
  std::vector<std::uint16_t> sentinel_ports() const;
  std::string sentinels_yaml() const;
  // The port of the server the sentinels now name as master ("SENTINEL get-master-addr-by-name"),
  // 0 when the first sentinel cannot say.
  std::uint16_t master_port_now();
  // Forces a failover (SENTINEL FAILOVER) through the first sentinel.
  void force_failover();

 private:
  std::unique_ptr<RedisServer> master_;
  std::unique_ptr<RedisServer> replica_;
  std::vector<std::unique_ptr<RedisServer>> sentinels_;
};

}  // namespace pushgw::test
