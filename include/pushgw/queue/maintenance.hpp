#pragma once
// The background duties of an instance that keep jobs moving when nothing else would:
//   - heartbeat: refreshes pushgw:instance:<id> (TTL queue.heartbeat_ttl) and the instances set;
//   - due-job poller: moves retries and send_at jobs whose time has come from each lane's
//     retry ZSET to the head of its queue (atomic script);
//   - reaper: one instance at a time (a lease key) returns the processing lists of instances
//     whose heartbeat expired, each job marked redelivered, or dead-lettered when it was
//     redelivered more than queue.max_redeliveries times (a job that kills workers must not
//     loop forever).
// At start it also returns what this instance id's processing lists still hold from a previous
// run (a restarted pod keeps its name), before any job is taken.
//
// Threading: everything runs on the executor given to the constructor (one thread).

#include <chrono>
#include <functional>
#include <memory>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "pushgw/config/config.hpp"
#include "pushgw/queue/instance_registry.hpp"
#include "pushgw/queue/job_store.hpp"
#include "pushgw/queue/lane.hpp"

namespace pushgw::queue {

// Told how many jobs of `lane` the reaper requeued and dead-lettered.
using RequeueObserver = std::function<void(Lane lane, std::size_t requeued, std::size_t dead)>;

class Maintenance {
 public:
  // `store` and `registry` belong to the same instance.
  Maintenance(boost::asio::any_io_executor executor, JobStore& store, InstanceRegistry& registry,
              config::QueueConfig config, RequeueObserver observer = {});
  ~Maintenance();
  Maintenance(const Maintenance&) = delete;
  Maintenance& operator=(const Maintenance&) = delete;

  // Returns this instance id's leftovers from a previous run (retrying while Redis is
  // unreachable, until `until`), then sends the first heartbeat. True when both succeeded.
  boost::asio::awaitable<bool> recover(std::chrono::steady_clock::time_point until);
  // Starts the heartbeat, poller and reaper loops.
  void start();
  // Stops the loops and deletes the heartbeat (a clean exit is not a death to reap).
  boost::asio::awaitable<void> stop();

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace pushgw::queue
