#include "support/redis_sentinel.hpp"

#include <stdexcept>

#include "support/eventually.hpp"

namespace pushgw::test {

namespace {

using namespace std::chrono_literals;

// The value of `field` in an INFO section, or "".
std::string info_field(SyncRedis& redis, const std::string& section, const std::string& field) {
  ReplyPtr info = redis.command({"INFO", section});
  const std::string text(info->str, info->len);
  const auto at = text.find(field + ":");
  if (at == std::string::npos) return {};
  const auto end = text.find_first_of("\r\n", at);
  return text.substr(at + field.size() + 1, end - at - field.size() - 1);
}

std::size_t array_size(SyncRedis& redis, const std::vector<std::string>& command) {
  ReplyPtr reply = redis.command(command);
  return reply->type == REDIS_REPLY_ARRAY ? reply->elements : 0;
}

}  // namespace

RedisSentinelSet::RedisSentinelSet() {
  RedisServerOptions persistent;
  persistent.extra_args = {"--appendonly", "yes"};
  master_ = std::make_unique<RedisServer>(persistent);
  RedisServerOptions replica = persistent;
  replica.extra_args.insert(replica.extra_args.end(), {"--replicaof", "127.0.0.1", std::to_string(master_->port())});
  replica_ = std::make_unique<RedisServer>(replica);

  RedisServerOptions sentinel;
  sentinel.sentinel_config = "sentinel monitor " + std::string(kMaster) + " 127.0.0.1 " +
                             std::to_string(master_->port()) + " 2\n"
                             "sentinel down-after-milliseconds " + kMaster + " 1000\n"
                             "sentinel failover-timeout " + kMaster + " 3000\n"
                             "sentinel parallel-syncs " + kMaster + " 1\n";
  for (int i = 0; i < 3; ++i) sentinels_.push_back(std::make_unique<RedisServer>(sentinel));

  SyncRedis replica_check(*replica_);
  if (!eventually([&] { return info_field(replica_check, "replication", "master_link_status") == "up"; }, 30s)) {
    throw std::runtime_error("RedisSentinelSet: the replica did not sync with the master; its log:\n" + replica_->log());
  }
  for (auto& s : sentinels_) {
    SyncRedis check(*s);
    const bool ready = eventually([&] {
      return array_size(check, {"SENTINEL", "REPLICAS", kMaster}) == 1 &&
             array_size(check, {"SENTINEL", "SENTINELS", kMaster}) == 2;
    }, 60s);
    if (!ready) throw std::runtime_error("RedisSentinelSet: a sentinel did not find the replica and its peers; its log:\n" + s->log());
  }
}

std::vector<std::uint16_t> RedisSentinelSet::sentinel_ports() const {
  std::vector<std::uint16_t> ports;
  for (const auto& s : sentinels_) ports.push_back(s->port());
  return ports;
}

std::string RedisSentinelSet::sentinels_yaml() const {
  std::string out = "[";
  for (const auto& s : sentinels_) out += (out.size() > 1 ? ", \"" : "\"") + s->host() + ":" + std::to_string(s->port()) + "\"";
  return out + "]";
}

std::uint16_t RedisSentinelSet::master_port_now() {
  SyncRedis sentinel(*sentinels_.front());
  ReplyPtr reply = sentinel.command({"SENTINEL", "GET-MASTER-ADDR-BY-NAME", kMaster});
  if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2) return 0;
  return static_cast<std::uint16_t>(std::stoi(std::string(reply->element[1]->str, reply->element[1]->len)));
}

void RedisSentinelSet::force_failover() {
  SyncRedis sentinel(*sentinels_.front());
  ReplyPtr reply = sentinel.command({"SENTINEL", "FAILOVER", kMaster});
  if (reply->type == REDIS_REPLY_ERROR) throw std::runtime_error("SENTINEL FAILOVER: " + std::string(reply->str, reply->len));
}

}  // namespace pushgw::test
