#pragma once
// Storing new jobs: what POST /push does with the jobs of a request, and what any other
// producer inside pushgw uses (a dead-letter replay, topics). A job due now is LPUSHed to its
// lane's queue; a job due later (send_at) is ZADDed to its lane's retry ZSET, scored with its
// due time, for the due-job poller to queue when the time comes.
//
// The jobs of one call go to Redis in one MULTI/EXEC per lane (a transaction must stay in one
// Redis Cluster slot, and each lane's keys share one hash tag), all in one pipeline: a caller
// that answers "accepted" after Stored::all never loses a job. Almost every call has jobs of
// one lane, and then it is all or nothing; when one lane's transaction ran and another's was
// refused, the result is Stored::unknown (a retry would store the first lane's jobs twice).
//
// GCC 12: parameters are references to named objects (see job_store.hpp). Not thread-safe:
// one executor.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "pushgw/job/notification.hpp"
#include "pushgw/queue/keys.hpp"
#include "pushgw/queue/lane.hpp"
#include "pushgw/redis/client.hpp"

namespace pushgw::queue {

// One job to store.
struct NewJob {
  Lane lane;
  std::string text;                    // the job's JSON (job::encode_job_string)
  std::optional<std::int64_t> due_ms;  // set: scheduled, due at this unix ms; unset: due now
  bool operator==(const NewJob&) const = default;
};

// The jobs to store for `jobs`, in order: each in its notification's lane, scheduled when its
// send_at is later than `now_ms` (one at or before now is queued at once).
std::vector<NewJob> new_jobs(const std::vector<job::Notification>& jobs, std::int64_t now_ms);

enum class Stored {
  all,      // every job is in Redis
  none,     // no job is: Redis was unreachable, or refused the transaction; a retry is safe
  unknown,  // the transaction was sent but no answer came (timeout, connection lost): Redis
            // may have run it; or the jobs of some lanes were stored and others were not
};

struct Enqueued {
  Stored stored = Stored::all;
  std::string problem;  // why not all: the client's error or Redis's error reply
};

class Producer {
 public:
  Producer(redis::Client& redis, const Keys& keys);

  // Stores every job of `jobs` (one MULTI/EXEC per lane, one round trip). Queued jobs keep their order within a
  // lane: the consumers take the oldest first.
  boost::asio::awaitable<Enqueued> enqueue(const std::vector<NewJob>& jobs);

 private:
  redis::Client& redis_;
  Keys keys_;
};

}  // namespace pushgw::queue
