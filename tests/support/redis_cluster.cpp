#include "support/redis_cluster.hpp"

#include <algorithm>
#include <stdexcept>

#include "support/eventually.hpp"
#include "support/process.hpp"

namespace pushgw::test {

namespace {

using namespace std::chrono_literals;

std::string text_of(const ReplyPtr& reply) {
  return reply && (reply->type == REDIS_REPLY_STRING || reply->type == REDIS_REPLY_STATUS ||
                   reply->type == REDIS_REPLY_ERROR)
             ? std::string(reply->str, reply->len)
             : std::string();
}

ReplyPtr must(SyncRedis& redis, const std::vector<std::string>& argv) {
  ReplyPtr reply = redis.command(argv);
  if (reply->type == REDIS_REPLY_ERROR) {
    std::string command;
    for (const auto& a : argv) command += (command.empty() ? "" : " ") + a;
    throw std::runtime_error("RedisCluster: " + command + " answered " + text_of(reply));
  }
  return reply;
}

}  // namespace

RedisCluster::RedisCluster(std::size_t masters) {
  for (std::size_t i = 0; i < masters; ++i) {
    bus_ports_.push_back(free_tcp_port());
    RedisServerOptions options;
    options.extra_args = {"--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-port",
                          std::to_string(bus_ports_.back()), "--cluster-node-timeout", "2000",
                          // A test kills nodes on purpose; the others keep serving their slots.
                          "--cluster-require-full-coverage", "no"};
    nodes_.push_back(std::make_unique<RedisServer>(options));
  }
  for (std::size_t i = 0; i < masters; ++i) {
    SyncRedis redis(*nodes_[i]);
    const std::size_t first = i * 16384 / masters;
    const std::size_t last = (i + 1) * 16384 / masters - 1;
    must(redis, {"CLUSTER", "ADDSLOTSRANGE", std::to_string(first), std::to_string(last)});
    ids_.push_back(text_of(must(redis, {"CLUSTER", "MYID"})));
  }
  SyncRedis first(*nodes_[0]);
  for (std::size_t i = 1; i < masters; ++i) {
    must(first, {"CLUSTER", "MEET", "127.0.0.1", std::to_string(nodes_[i]->port()), std::to_string(bus_ports_[i])});
  }
  for (std::size_t i = 0; i < masters; ++i) {
    SyncRedis redis(*nodes_[i]);
    const bool ok = eventually([&] {
      // With cluster-require-full-coverage off, "ok" alone does not mean that this node has
      // learnt every other master's slots yet: a MIGRATE to it could be told CLUSTERDOWN.
      const std::string info = text_of(redis.command({"CLUSTER", "INFO"}));
      return info.find("cluster_state:ok") != std::string::npos &&
             info.find("cluster_slots_ok:16384\r") != std::string::npos &&
             info.find("cluster_known_nodes:" + std::to_string(masters) + "\r") != std::string::npos;
    }, 60s);
    if (!ok) throw std::runtime_error("RedisCluster: node " + std::to_string(i) + " did not reach cluster_state:ok; its log:\n" + nodes_[i]->log());
  }
}

std::string RedisCluster::seeds_yaml() const {
  std::string yaml = "[";
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    yaml += (i ? ", " : "") + std::string("\"127.0.0.1:") + std::to_string(nodes_[i]->port()) + "\"";
  }
  return yaml + "]";
}

std::uint16_t RedisCluster::slot_of(const std::string& key) {
  SyncRedis redis(*nodes_[0]);
  return static_cast<std::uint16_t>(must(redis, {"CLUSTER", "KEYSLOT", key})->integer);
}

std::size_t RedisCluster::owner_of(std::uint16_t slot) {
  SyncRedis redis(*nodes_[0]);
  ReplyPtr slots = must(redis, {"CLUSTER", "SLOTS"});
  for (std::size_t r = 0; r < slots->elements; ++r) {
    const redisReply* range = slots->element[r];
    if (range->element[0]->integer > slot || range->element[1]->integer < slot) continue;
    const auto port = static_cast<std::uint16_t>(range->element[2]->element[1]->integer);
    for (std::size_t i = 0; i < nodes_.size(); ++i) {
      if (nodes_[i]->port() == port) return i;
    }
  }
  throw std::runtime_error("RedisCluster: no node serves slot " + std::to_string(slot));
}

void RedisCluster::begin_migration(std::uint16_t slot, std::size_t to) {
  const std::size_t from = owner_of(slot);
  if (from == to) throw std::invalid_argument("RedisCluster: slot " + std::to_string(slot) + " is on that node already");
  SyncRedis target(*nodes_.at(to));
  SyncRedis source(*nodes_[from]);
  must(target, {"CLUSTER", "SETSLOT", std::to_string(slot), "IMPORTING", ids_[from]});
  must(source, {"CLUSTER", "SETSLOT", std::to_string(slot), "MIGRATING", ids_[to]});
  migrations_.push_back({slot, from, to});
}

std::size_t RedisCluster::migrate_keys(std::uint16_t slot, std::size_t max) {
  const auto it = std::find_if(migrations_.begin(), migrations_.end(), [&](const Migration& m) { return m.slot == slot; });
  if (it == migrations_.end()) throw std::logic_error("RedisCluster: slot " + std::to_string(slot) + " is not being migrated");
  SyncRedis source(*nodes_[it->from]);
  ReplyPtr keys = must(source, {"CLUSTER", "GETKEYSINSLOT", std::to_string(slot), std::to_string(max)});
  if (keys->elements == 0) return 0;
  std::vector<std::string> migrate = {"MIGRATE", "127.0.0.1", std::to_string(nodes_[it->to]->port()), "", "0", "5000", "KEYS"};
  for (std::size_t i = 0; i < keys->elements; ++i) migrate.emplace_back(keys->element[i]->str, keys->element[i]->len);
  must(source, migrate);
  return keys->elements;
}

void RedisCluster::finish_migration(std::uint16_t slot) {
  const auto it = std::find_if(migrations_.begin(), migrations_.end(), [&](const Migration& m) { return m.slot == slot; });
  if (it == migrations_.end()) throw std::logic_error("RedisCluster: slot " + std::to_string(slot) + " is not being migrated");
  while (migrate_keys(slot, 1000) > 0) {
  }
  const Migration m = *it;
  migrations_.erase(it);
  // The target first, then the source, then the others (as redis-cli does).
  std::vector<std::size_t> order = {m.to, m.from};
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    if (i != m.to && i != m.from) order.push_back(i);
  }
  for (const std::size_t i : order) {
    SyncRedis redis(*nodes_[i]);
    must(redis, {"CLUSTER", "SETSLOT", std::to_string(slot), "NODE", ids_[m.to]});
  }
}

long long RedisCluster::total_keys() {
  long long total = 0;
  for (auto& node : nodes_) {
    SyncRedis redis(*node);
    total += must(redis, {"DBSIZE"})->integer;
  }
  return total;
}

}  // namespace pushgw::test
