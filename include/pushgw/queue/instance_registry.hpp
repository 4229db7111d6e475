#pragma once
// The instances of a deployment as Redis sees them: each refreshes a heartbeat key with a TTL
// and is a member of the instances set; an instance whose heartbeat expired is dead (its
// processing lists are for the reaper to return). One instance at a time holds the reaper
// lease. Apart from the job lifecycle (job_store.hpp), which needs none of this.
//
// GCC 12: parameters are views of named objects (see job_store.hpp). Redis and network errors
// come back as error_codes; nothing here throws for them. Not thread-safe: one executor.

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/system/error_code.hpp>

#include "pushgw/queue/keys.hpp"
#include "pushgw/redis/client.hpp"

namespace pushgw::queue {

class InstanceRegistry {
 public:
  InstanceRegistry(redis::Client& redis, const Keys& keys, std::string instance);

  const std::string& instance() const { return instance_; }

  // Sets this instance's heartbeat key (`info` as its value) with `ttl`, and adds it to the
  // instances set.
  boost::asio::awaitable<boost::system::error_code> heartbeat(std::string_view info, std::chrono::milliseconds ttl);
  // Deletes the heartbeat and leaves the instances set (clean shutdown).
  boost::asio::awaitable<boost::system::error_code> sign_off();

  // A lease named by `key` (the reaper's, the webhook sender's), in one script: taken when
  // free, renewed for `ttl` when this instance holds it (true), refused while another
  // instance holds it (false).
  boost::asio::awaitable<std::pair<boost::system::error_code, bool>> take_lease(const std::string& key,
                                                                                std::chrono::milliseconds ttl);
  boost::asio::awaitable<std::pair<boost::system::error_code, bool>> take_reaper_lease(std::chrono::milliseconds ttl) {
    return take_lease(keys_.reaper_lease(), ttl);
  }

  // Instances in the set whose heartbeat has expired (never this one).
  boost::asio::awaitable<std::pair<boost::system::error_code, std::vector<std::string>>> dead_instances();
  // Removes a dead instance from the set (once its processing lists are empty).
  boost::asio::awaitable<boost::system::error_code> forget(std::string_view instance);

 private:
  redis::Client& redis_;
  Keys keys_;
  std::string instance_;
  std::string heartbeat_key_;  // this instance's
};

}  // namespace pushgw::queue
