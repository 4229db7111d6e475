#pragma once
// The Redis side of a job's life for one instance: taking jobs into this instance's
// processing lists, acking them (with their retries and dead letters, atomically), moving
// due retries back, and requeueing the jobs of dead instances (which instances are dead is
// instance_registry.hpp's to say).
//
// GCC 12 may destroy a temporary with a destructor twice when it is created inside a co_await
// expression: every parameter here is a view or a reference to a named object, and callers
// pass named objects (or literals for views), never temporaries like std::string(...).
//
// Every operation is one script or one pipeline on the lane's keys (one hash tag). None
// throws for Redis or network errors: they come back as an error_code (redis::error;
// unexpected_reply for replies that make no sense), and the caller retries.
//
// It also remembers which elements this instance holds (HeldElements), so elements stranded in
// its processing list by a lost reply can be found and returned. Not thread-safe: use it from
// one executor.

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/system/error_code.hpp>

#include "pushgw/common/call_batcher.hpp"
#include "pushgw/queue/held_elements.hpp"
#include "pushgw/queue/keys.hpp"
#include "pushgw/queue/lane.hpp"
#include "pushgw/redis/client.hpp"

namespace pushgw::queue {

struct Taken {
  boost::system::error_code ec;
  std::vector<std::string> elements;  // now in this instance's processing list
};

// What acking one element writes with it.
struct AckPlan {
  std::vector<std::pair<std::int64_t, std::string>> retry;  // (due unix ms, job text)
  std::vector<std::string> dead;                            // dead_letter_entry texts
};

struct Requeued {
  boost::system::error_code ec;
  std::size_t requeued = 0;
  std::size_t dead = 0;
};

class JobStore {
 public:
  // `redis` serves the non-blocking commands (pipelined with every other caller).
  JobStore(redis::Client& redis, const Keys& keys, std::string instance);

  const Keys& keys() const { return keys_; }
  const std::string& instance() const { return instance_; }

  // Moves up to `max` jobs of `lane` into the processing list at once (none when the queue
  // is empty).
  boost::asio::awaitable<Taken> take_now(Lane lane, std::size_t max);
  // Waits up to `block` for one job (BLMOVE) on `blocking`: a client that serves nothing else
  // (a blocked connection cannot pipeline) and whose command timeout is longer than `block`.
  // No element and no error when nothing came.
  boost::asio::awaitable<Taken> take_blocking(redis::Client& blocking, Lane lane, std::chrono::milliseconds block);

  // Removes `element` from the processing list and writes its retries and dead letters, in one
  // step. Running it again after an unknown result (a connection lost) changes nothing.
  // Acks of a lane that arrive while one of its ack calls is in flight wait for it and then go
  // together in one call (up to kMaxAcksPerCall): under load one call acks many jobs. A call
  // whose acks write nothing (no retries, no dead letters) is a pipeline of plain LREMs.
  boost::asio::awaitable<boost::system::error_code> ack(Lane lane, std::string_view element, const AckPlan& plan);
  static constexpr std::size_t kMaxAcksPerCall = 128;

  // Swaps `element` in the processing list for `replacement` and writes `plan`'s retries and
  // dead letters, in one step: the same job stamped with `job` metadata before its first send
  // (so a redelivery carries the same job id), or a checkpoint (the tokens still without an
  // outcome, with what the others' outcomes planned). Running it again after an unknown
  // result changes nothing.
  boost::asio::awaitable<boost::system::error_code> replace(Lane lane, std::string_view element,
                                                            std::string_view replacement, const AckPlan& plan);

  // Moves up to `max` retry/scheduled jobs of `lane` due at `now_ms` to the queue; the count.
  boost::asio::awaitable<std::pair<boost::system::error_code, std::size_t>> move_due(Lane lane, std::int64_t now_ms,
                                                                                     std::size_t max);

  // Claims idempotency key `id` of `app` for `job_id` (see claim_script): true when this job
  // may send.
  boost::asio::awaitable<std::pair<boost::system::error_code, bool>> claim(
      std::string_view app, std::string_view id, std::string_view job_id, std::chrono::milliseconds ttl);

  // Puts every job in `instance`'s processing list of `lane` back at the head of the queue,
  // each marked as redelivered (or dead-lettered past max_redeliveries). With `as_new` the
  // jobs go back unchanged (this instance's own jobs it never started).
  boost::asio::awaitable<Requeued> requeue_processing(std::string_view instance, Lane lane,
                                                      std::size_t max_redeliveries, bool as_new,
                                                      std::int64_t now_ms);
  // Returns jobs stranded in this instance's processing list of `lane`: elements that are in
  // the list but that no job of this instance holds, seen so in two consecutive calls (a
  // take whose reply was lost when Redis restarted moved them; one call apart rules out a take
  // whose reply is still on its way). They go back to the head of the queue unchanged.
  boost::asio::awaitable<Requeued> requeue_stranded(Lane lane);

  // LLEN of each lane's queue and this instance's processing list, ZCARD of retry (for gauges),
  // indexed by Lane::index().
  struct Depths {
    std::int64_t queue = 0, processing = 0, retry = 0;
  };
  boost::asio::awaitable<std::pair<boost::system::error_code, std::array<Depths, Lane::kCount>>> depths();

 private:
  // Every element of a list (LRANGE 0 -1).
  boost::asio::awaitable<std::pair<boost::system::error_code, std::vector<std::string>>> whole_list(const std::string& key);
  const std::string& processing(Lane lane) const { return processing_[lane.index()]; }

  // An ack waiting for its lane's next ack call; the caller's frame holds element and plan.
  struct PendingAck {
    std::string_view element;
    const AckPlan* plan;
    std::function<void(boost::system::error_code)> done;
  };
  // One call for the acks of `lane` (LREMs, or the ack script), then each caller's done().
  boost::asio::awaitable<void> ack_call(Lane lane, std::vector<PendingAck> acks);
  boost::asio::awaitable<boost::system::error_code> remove_acked(Lane lane, const std::vector<PendingAck>& acks);
  boost::asio::awaitable<boost::system::error_code> ack_with_script(Lane lane, const std::vector<PendingAck>& acks);

  redis::Client& redis_;
  Keys keys_;
  std::string instance_;
  std::array<std::string, Lane::kCount> processing_;  // this instance's processing list per lane
  HeldElements held_;
  common::CallBatcher<PendingAck> acks_;  // by lane name
};

}  // namespace pushgw::queue
