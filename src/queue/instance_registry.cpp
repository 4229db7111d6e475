#include "pushgw/queue/instance_registry.hpp"

#include <boost/asio.hpp>

#include "pushgw/queue/scripts.hpp"

namespace pushgw::queue {

namespace asio = boost::asio;
using boost::system::error_code;

InstanceRegistry::InstanceRegistry(redis::Client& redis, const Keys& keys, std::string instance)
    : redis_(redis), keys_(keys), instance_(std::move(instance)), heartbeat_key_(keys_.instance(instance_)) {}

asio::awaitable<error_code> InstanceRegistry::heartbeat(std::string_view info, std::chrono::milliseconds ttl) {
  redis::Request request;
  request.push("SET", heartbeat_key_, info, "PX", std::to_string(ttl.count()));
  request.push("SADD", keys_.instances(), instance_);
  auto result = co_await redis_.exec(std::move(request));
  if (result.ec) co_return result.ec;
  for (const auto& reply : result.replies) {
    if (reply.is_error()) co_return redis::make_error_code(redis::error::unexpected_reply);
  }
  co_return error_code{};
}

asio::awaitable<error_code> InstanceRegistry::sign_off() {
  redis::Request request;
  request.push("DEL", heartbeat_key_);
  request.push("SREM", keys_.instances(), instance_);
  auto result = co_await redis_.exec(std::move(request));
  co_return result.ec;
}

asio::awaitable<std::pair<error_code, bool>> InstanceRegistry::take_lease(const std::string& key,
                                                                          std::chrono::milliseconds ttl) {
  std::vector<std::string> keys{key};
  std::vector<std::string> args{instance_, std::to_string(ttl.count())};
  auto [ec, reply] = co_await eval_script(redis_, lease_script(), keys, args);
  if (ec) co_return std::pair{ec, false};
  if (reply.type != redis::Reply::Type::integer) {
    co_return std::pair{redis::make_error_code(redis::error::unexpected_reply), false};
  }
  co_return std::pair{error_code{}, reply.integer == 1};
}

asio::awaitable<std::pair<error_code, std::vector<std::string>>> InstanceRegistry::dead_instances() {
  redis::Request members;
  members.push("SMEMBERS", keys_.instances());
  auto result = co_await redis_.exec(std::move(members));
  if (result.ec) co_return std::pair{result.ec, std::vector<std::string>{}};
  if (result.replies.at(0).type != redis::Reply::Type::array) {
    co_return std::pair{redis::make_error_code(redis::error::unexpected_reply), std::vector<std::string>{}};
  }
  std::vector<std::string> others;
  for (const auto& member : result.replies.at(0).elements) {
    if (member.str != instance_) others.push_back(member.str);
  }
  if (others.empty()) co_return std::pair{error_code{}, std::vector<std::string>{}};
  redis::Request exists;
  for (const auto& other : others) exists.push("EXISTS", keys_.instance(other));
  auto alive = co_await redis_.exec(std::move(exists));
  if (alive.ec) co_return std::pair{alive.ec, std::vector<std::string>{}};
  std::vector<std::string> dead;
  for (std::size_t i = 0; i < others.size(); ++i) {
    const auto& reply = alive.replies.at(i);
    if (reply.type == redis::Reply::Type::integer && reply.integer == 0) dead.push_back(others[i]);
  }
  co_return std::pair{error_code{}, std::move(dead)};
}

asio::awaitable<error_code> InstanceRegistry::forget(std::string_view instance) {
  redis::Request request;
  request.push("SREM", keys_.instances(), instance);
  auto result = co_await redis_.exec(std::move(request));
  co_return result.ec;
}

}  // namespace pushgw::queue
