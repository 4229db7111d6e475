#pragma once
// Takes jobs from the lanes into this instance's processing lists and hands each to a job
// handler (the dispatcher), never holding more jobs than there are free workers: a backlog
// stays in Redis, not in memory.
//
// One fetch loop per lane, each with a Redis connection of its own for BLMOVE. A loop first
// gets free workers (shared by all lanes, granted by weight while several lanes wait: see
// lane_scheduler.hpp), takes up to that many jobs in one script, and blocks for one job only
// when its lane is empty, holding a single worker while it waits. An empty lane costs one
// blocked connection and no CPU.
//
// Threading: everything runs on the executor given to the constructor (one thread).

#include <array>
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/cancellation_signal.hpp>

#include "pushgw/config/config.hpp"
#include "pushgw/queue/job_store.hpp"
#include "pushgw/queue/lane.hpp"
#include "pushgw/queue/lane_scheduler.hpp"
#include "pushgw/redis/client.hpp"

namespace pushgw::queue {

// Handles one job taken from `lane`. It must ack the element itself; the
// worker is free again when the awaitable completes. It should not throw (an exception is
// logged and the element stays in the processing list until shutdown or a reaper returns it).
// `stop` is the job's own stop signal, emitted when the job is still running at the shutdown
// deadline: the handler should then return soon without acking (the element goes back).
using JobHandler = std::function<boost::asio::awaitable<void>(Lane lane, std::string element,
                                                              boost::asio::cancellation_slot stop)>;

struct ConsumerConfig {
  config::QueueConfig queue;
  redis::ClientConfig redis;  // for the blocking connections (their command timeout is raised)
  // How many more jobs the handler can start soon (the dispatcher: its sends in progress against
  // what its providers can have in flight); 0 = none now, asked again shortly. Unset: no limit
  // but the workers and in_progress_bytes. Jobs taken beyond it would only wait in this
  // instance's processing list, where a crash strands them until the reaper returns them.
  std::function<std::size_t()> room;
};

class Consumer {
 public:
  Consumer(boost::asio::any_io_executor executor, JobStore& store, ConsumerConfig config, JobHandler handler);
  ~Consumer();
  Consumer(const Consumer&) = delete;
  Consumer& operator=(const Consumer&) = delete;

  // Connects the blocking connections and starts the fetch loops.
  void start();
  // Stops taking jobs, lets the running ones finish until `deadline`, then emits the stop
  // signal of each job still running and waits (briefly) for them to return, then puts every
  // job still in this instance's processing lists back at the head of its queue (unchanged:
  // they were not started, or were stopped before their ack). True when every job finished or
  // went back.
  boost::asio::awaitable<bool> stop(std::chrono::steady_clock::time_point deadline);

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace pushgw::queue
