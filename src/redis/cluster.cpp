// Redis Cluster routing over single-server Clients (see cluster.hpp).

#include "cluster.hpp"

#include <algorithm>
#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "pushgw/redis/cluster_slots.hpp"
#include "pushgw/common/coroutine_warnings.hpp"  // last: GCC 12 false positive

namespace pushgw::redis {

namespace asio = boost::asio;
using boost::system::error_code;

namespace {

constexpr asio::as_tuple_t<asio::use_awaitable_t<>> use_tuple{};
constexpr int kMaxRedirects = 5;                              // per command, then its error reply stands
constexpr std::chrono::seconds kRefreshEvery{10};             // the map is read again this often
constexpr std::chrono::milliseconds kRefreshAtMostEvery{100}; // however many MOVED replies ask for it
constexpr std::chrono::milliseconds kPoll{5};                 // while waiting for a node's connection

std::string node_key(const config::HostPort& node) {
  const bool ipv6 = node.host.find(':') != std::string::npos;
  return ipv6 ? fmt::format("[{}]:{}", node.host, node.port) : fmt::format("{}:{}", node.host, node.port);
}

// A command, or a MULTI ... EXEC transaction, which must go to one node as a whole.
struct Unit {
  std::size_t first = 0;
  std::size_t count = 1;
  std::optional<std::uint16_t> slot;  // of its first key; none for keyless commands
  config::HostPort target;
  bool asking = false;                // send ASKING first (after an ASK redirect)
};

std::vector<Unit> units_of(const Request& request) {
  std::vector<Unit> units;
  for (std::size_t i = 0; i < request.size();) {
    Unit unit;
    unit.first = i;
    // A command, or MULTI through its EXEC or DISCARD (or the request's end); each command's
    // arguments are read back once.
    bool in_transaction = false;
    std::size_t k = i;
    do {
      const auto argv = request.arguments(k);
      if (k == i) in_transaction = is_command(argv.at(0), "MULTI");
      else if (is_command(argv.at(0), "EXEC") || is_command(argv.at(0), "DISCARD")) in_transaction = false;
      if (!unit.slot) {
        if (const auto index = routing_argument(argv)) unit.slot = key_slot(argv[*index]);
      }
      ++k;
    } while (in_transaction && k < request.size());
    unit.count = k - i;
    i = k;
    units.push_back(std::move(unit));
  }
  return units;
}

}  // namespace

struct ClusterRouter::Impl : std::enable_shared_from_this<Impl> {
  Impl(asio::any_io_executor executor_in, ClientConfig config_in)
      : executor(std::move(executor_in)), config(std::move(config_in)), refresh_timer(executor), throttle_timer(executor) {
    server_text = "cluster (slot map not read yet) via seeds " + seeds_text();
  }

  asio::any_io_executor executor;
  ClientConfig config;
  std::map<std::string, std::unique_ptr<Client>> nodes;  // by host:port; kept until the end
  SlotMap slots;
  std::vector<SlotRange> read_ranges;  // what CLUSTER SLOTS said last, to log a change once
  asio::steady_timer refresh_timer;    // the refresh loop sleeps on it; refresh_now() cancels it
  asio::steady_timer throttle_timer;
  bool refresh_wanted = false;
  bool started = false;
  bool stopping = false;

  // Read from any thread.
  mutable std::mutex state_mutex;
  std::vector<Client*> master_clients;   // the masters of the current map
  bool whole = false;                    // every slot has a master
  error_code own_error;                  // why the map could not be read
  std::string own_error_text;
  std::string server_text;

  std::string seeds_text() const {
    std::string text;
    for (const auto& seed : config.cluster_nodes) text += (text.empty() ? "" : ", ") + node_key(seed);
    return text;
  }

  ClientConfig node_config(const config::HostPort& node) const {
    ClientConfig out = config;
    out.cluster_nodes.clear();
    out.endpoint.host = node.host;
    out.endpoint.port = node.port;
    out.endpoint.db = 0;  // Redis Cluster has only database 0
    return out;
  }

  // The client of `node`, made (and started) on first use.
  Client& node(const config::HostPort& where) {
    auto& client = nodes[node_key(where)];
    if (!client) {
      client = std::make_unique<Client>(executor, node_config(where));
      if (started && !stopping) client->start();
    }
    return *client;
  }

  void set_error(error_code ec, std::string text) {
    std::lock_guard lock(state_mutex);
    own_error = ec;
    own_error_text = std::move(text);
  }

  // After the map changed: what connected(), server() and last_error() read.
  void publish_map() {
    std::vector<Client*> clients;
    std::string masters;
    for (const auto& master : slots.masters()) {
      clients.push_back(&node(master));
      masters += (masters.empty() ? "" : ", ") + node_key(master);
    }
    std::lock_guard lock(state_mutex);
    master_clients = std::move(clients);
    whole = slots.covered() == kClusterSlots;
    server_text = fmt::format("cluster of {} master(s): {}{}", slots.masters().size(), masters,
                              whole ? "" : fmt::format(" ({} of 16384 slots served)", slots.covered()));
  }

  void refresh_now() {
    refresh_wanted = true;
    refresh_timer.cancel();
  }

  // Waits (up to connect_timeout) for `client` to be connected.
  asio::awaitable<bool> wait_connected(Client& client) {
    const auto until = std::chrono::steady_clock::now() + config.connect_timeout;
    asio::steady_timer poll(executor);
    while (!client.connected() && !stopping && std::chrono::steady_clock::now() < until) {
      poll.expires_after(kPoll);
      co_await poll.async_wait(use_tuple);
    }
    co_return client.connected();
  }

  // Reads the slot map from the first node that gives it: the known masters, then the seeds.
  asio::awaitable<void> refresh_once() {
    std::vector<config::HostPort> candidates = slots.masters();
    for (const auto& seed : config.cluster_nodes) {
      if (std::find(candidates.begin(), candidates.end(), seed) == candidates.end()) candidates.push_back(seed);
    }
    for (const auto& candidate : candidates) node(candidate);  // start connecting to each at once
    const auto until = std::chrono::steady_clock::now() + config.connect_timeout;
    asio::steady_timer poll(executor);
    std::string reasons;
    for (;;) {
      reasons.clear();
      for (const auto& candidate : candidates) {
        Client& client = node(candidate);
        const std::string name = node_key(candidate);
        if (!client.connected()) {
          const std::string why = client.last_error_text();
          reasons += fmt::format("{}{}: {}", reasons.empty() ? "" : "; ", name, why.empty() ? "not connected yet" : why);
          continue;
        }
        Request request;
        request.push("CLUSTER", "SLOTS");
        Result result = co_await client.exec(std::move(request));
        if (stopping) co_return;
        if (result.ec) {
          reasons += fmt::format("{}{}: {}", reasons.empty() ? "" : "; ", name, result.ec.message());
          continue;
        }
        SlotMapResult map = parse_cluster_slots(result.replies.at(0), candidate);
        if (!map.error.empty()) {
          reasons += fmt::format("{}{}: {}", reasons.empty() ? "" : "; ", name, map.error);
          continue;
        }
        const bool changed = map.ranges != read_ranges;
        read_ranges = map.ranges;
        slots.assign(map.ranges);
        publish_map();
        if (slots.covered() == kClusterSlots) {
          set_error({}, {});
        } else {
          set_error(error::cluster_failed, fmt::format("{} of 16384 slots have no master (CLUSTER SLOTS from {})",
                                                       kClusterSlots - slots.covered(), name));
        }
        if (changed) spdlog::info("redis: {}", server());
        co_return;
      }
      if (stopping || std::chrono::steady_clock::now() >= until) break;
      poll.expires_after(kPoll * 4);
      co_await poll.async_wait(use_tuple);
    }
    if (stopping) co_return;
    const std::string text = "no cluster node gave the slot map: " + reasons;
    if (current_error_text() != text) spdlog::warn("redis: {}", text);
    set_error(error::cluster_failed, text);
  }

  std::string current_error_text() const {
    std::lock_guard lock(state_mutex);
    return own_error_text;
  }

  std::string server() const {
    std::lock_guard lock(state_mutex);
    return server_text;
  }

  static asio::awaitable<void> run(std::shared_ptr<Impl> self) {
    while (!self->stopping) {
      self->refresh_wanted = false;
      const auto began = std::chrono::steady_clock::now();
      co_await self->refresh_once();
      if (self->stopping) break;
      if (!self->refresh_wanted) {
        // Soon again while the map is not whole, else now and then (failovers that no reply
        // told us about) or when a redirect or a lost node asks for it.
        const bool whole = self->slots.covered() == kClusterSlots;
        self->refresh_timer.expires_after(whole ? std::chrono::milliseconds(kRefreshEvery)
                                                : std::max(self->config.reconnect_min, kRefreshAtMostEvery));
        co_await self->refresh_timer.async_wait(use_tuple);
      }
      const auto since = std::chrono::steady_clock::now() - began;
      if (!self->stopping && since < kRefreshAtMostEvery) {
        self->throttle_timer.expires_after(kRefreshAtMostEvery - since);
        co_await self->throttle_timer.async_wait(use_tuple);
      }
    }
  }

  // Sends `units` of `request` (all to `target`) as one pipeline; returns the sub-request's
  // result and, per reply, the index in `request` it answers (npos for an ASKING).
  asio::awaitable<std::pair<Result, std::vector<std::size_t>>> send_group(const Request& request,
                                                                         const std::vector<Unit*>& group,
                                                                         const config::HostPort& target) {
    Client& client = node(target);
    if (!client.connected()) co_await wait_connected(client);
    auto sub = std::make_shared<Request>();
    std::vector<std::size_t> answers;
    for (const Unit* unit : group) {
      if (unit->asking) {
        sub->push("ASKING");
        answers.push_back(std::string::npos);
      }
      for (std::size_t k = unit->first; k < unit->first + unit->count; ++k) {
        sub->push_command_of(request, k);
        answers.push_back(k);
      }
    }
    Result result = co_await client.exec_shared(std::move(sub));
    co_return std::pair{std::move(result), std::move(answers)};
  }

  asio::awaitable<Result> exec_here(std::shared_ptr<const Request> request) {
    if (stopping) co_return Result{make_error_code(error::stopped), {}};
    if (request->size() == 0) co_return Result{};
    if (slots.empty()) co_return Result{make_error_code(error::not_connected), {}};

    std::vector<Unit> units = units_of(*request);
    // Keyless commands go with their neighbours (one node, one pipeline), else to any master.
    std::optional<config::HostPort> first_keyed;
    for (Unit& unit : units) {
      if (!unit.slot) continue;
      const config::HostPort* master = slots.master_of(*unit.slot);
      if (!master) {
        refresh_now();
        set_error(error::cluster_failed, fmt::format("slot {} has no master", *unit.slot));
        co_return Result{make_error_code(error::not_connected), {}};
      }
      unit.target = *master;
      if (!first_keyed) first_keyed = *master;
    }
    std::optional<config::HostPort> previous = first_keyed;
    for (Unit& unit : units) {
      if (unit.slot) {
        previous = unit.target;
      } else {
        unit.target = previous ? *previous : slots.masters().front();
      }
    }

    // Fast path: one node, nothing to split (the queue's scripts and single commands).
    const bool one_node = std::all_of(units.begin(), units.end(), [&](const Unit& u) { return u.target == units.front().target; });
    Result out;
    std::vector<Unit*> pending;
    for (Unit& unit : units) pending.push_back(&unit);
    bool sent_any = false;
    error_code failure;
    for (int round = 0; !pending.empty(); ++round) {
      // Group by target, in the order the units come.
      std::vector<std::pair<config::HostPort, std::vector<Unit*>>> groups;
      for (Unit* unit : pending) {
        auto it = std::find_if(groups.begin(), groups.end(), [&](const auto& g) { return g.first == unit->target; });
        if (it == groups.end()) {
          groups.emplace_back(unit->target, std::vector<Unit*>{unit});
        } else {
          it->second.push_back(unit);
        }
      }
      std::vector<Unit*> again;
      bool back_off = false;
      for (auto& [target, group] : groups) {
        Result result;
        std::vector<std::size_t> answers;
        if (round == 0 && one_node) {
          Client& client = node(target);
          if (!client.connected()) co_await wait_connected(client);
          result = co_await client.exec_shared(request);
          answers.resize(request->size());
          for (std::size_t k = 0; k < answers.size(); ++k) answers[k] = k;
        } else {
          auto sent = co_await send_group(*request, group, target);
          result = std::move(sent.first);
          answers = std::move(sent.second);
        }
        if (stopping) co_return Result{make_error_code(error::stopped), {}};
        if (result.ec) {
          // A lost node may be a failover under way: read the map again.
          if (result.ec != error::stopped) refresh_now();
          if (!failure || failure == error::not_connected) failure = result.ec;
          continue;
        }
        sent_any = true;
        if (out.replies.empty()) out.replies.resize(request->size());
        for (std::size_t r = 0; r < answers.size(); ++r) {
          if (answers[r] != std::string::npos) out.replies[answers[r]] = std::move(result.replies[r]);
        }
        for (Unit* unit : group) {
          std::optional<Redirect> redirect;
          for (std::size_t k = unit->first; k < unit->first + unit->count && !redirect; ++k) {
            redirect = parse_redirect(out.replies[k]);
          }
          if (!redirect || round >= kMaxRedirects) continue;
          unit->asking = false;
          switch (redirect->kind) {
            case Redirect::Kind::moved:
              if (redirect->node.host.empty()) redirect->node.host = target.host;
              slots.move(redirect->slot, redirect->node);
              publish_map();
              refresh_now();
              unit->target = redirect->node;
              break;
            case Redirect::Kind::ask:
              if (redirect->node.host.empty()) redirect->node.host = target.host;
              unit->target = redirect->node;
              unit->asking = true;
              break;
            case Redirect::Kind::try_again:
            case Redirect::Kind::cluster_down:
              back_off = true;
              if (unit->slot) {
                if (const auto* master = slots.master_of(*unit->slot)) unit->target = *master;
              }
              break;
          }
          again.push_back(unit);
        }
      }
      if (failure) break;
      pending = std::move(again);
      if (back_off && !pending.empty()) {
        asio::steady_timer pause(executor);
        pause.expires_after(std::min(std::chrono::milliseconds(10) * (1 << round), std::chrono::milliseconds(200)));
        co_await pause.async_wait(use_tuple);
        if (stopping) co_return Result{make_error_code(error::stopped), {}};
      }
    }
    if (failure) {
      // Part of the request ran elsewhere: it was sent, and its outcome as a whole is unknown.
      if (failure == error::not_connected && sent_any) failure = error::connection_lost;
      co_return Result{failure, {}};
    }
    co_return out;
  }
};

ClusterRouter::ClusterRouter(asio::any_io_executor executor, ClientConfig config)
    : impl_(std::make_shared<Impl>(std::move(executor), std::move(config))) {}

ClusterRouter::~ClusterRouter() { stop(); }

void ClusterRouter::start() {
  asio::dispatch(impl_->executor, [impl = impl_] {
    if (impl->started || impl->stopping) return;
    impl->started = true;
    for (auto& [name, client] : impl->nodes) client->start();
    asio::co_spawn(impl->executor, Impl::run(impl), [](std::exception_ptr e) {
      if (!e) return;
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        spdlog::critical("redis: cluster map coroutine ended: {}", ex.what());
      }
    });
  });
}

void ClusterRouter::stop() {
  asio::dispatch(impl_->executor, [impl = impl_] {
    if (impl->stopping) return;
    impl->stopping = true;
    impl->refresh_timer.cancel();
    impl->throttle_timer.cancel();
    for (auto& [name, client] : impl->nodes) client->stop();
  });
}

asio::awaitable<Result> ClusterRouter::exec(Request request) {
  auto shared = std::make_shared<const Request>(std::move(request));
  std::shared_ptr<Impl> impl = impl_;
  const asio::any_io_executor caller = co_await asio::this_coro::executor;
  if (caller == impl->executor) co_return co_await impl->exec_here(std::move(shared));
  co_return co_await asio::co_spawn(
      impl->executor, [impl, shared]() { return impl->exec_here(shared); }(), asio::use_awaitable);
}

bool ClusterRouter::connected() const {
  std::lock_guard lock(impl_->state_mutex);
  return impl_->whole && std::all_of(impl_->master_clients.begin(), impl_->master_clients.end(),
                                     [](const Client* c) { return c->connected(); });
}

error_code ClusterRouter::last_error() const {
  std::lock_guard lock(impl_->state_mutex);
  if (impl_->own_error) return impl_->own_error;
  for (const Client* client : impl_->master_clients) {
    if (!client->connected()) return client->last_error() ? client->last_error() : make_error_code(error::not_connected);
  }
  return {};
}

std::string ClusterRouter::last_error_text() const {
  std::lock_guard lock(impl_->state_mutex);
  if (impl_->own_error) return impl_->own_error.message() + ": " + impl_->own_error_text;
  for (const Client* client : impl_->master_clients) {
    if (client->connected()) continue;
    const std::string why = client->last_error_text();
    return "cluster node " + client->server() + ": " + (why.empty() ? "not connected" : why);
  }
  return {};
}

std::string ClusterRouter::server() const { return impl_->server(); }

}  // namespace pushgw::redis
