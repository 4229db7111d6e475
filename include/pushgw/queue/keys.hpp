#pragma once
// Redis key names (DESIGN.md §4 "Redis keys"): the one place that spells them. Every key of one
// lane shares the hash tag {<lane>}, so Redis Cluster keeps a lane's keys in one slot and
// scripts can touch them all. Keys that never change are built once, at construction; only
// the ones that name something per call (an instance, an app, a notification id) are built
// when asked for.

#include <array>
#include <string>
#include <string_view>

#include "pushgw/queue/lane.hpp"

namespace pushgw::queue {

// The keys of one lane that every instance shares.
struct LaneKeys {
  std::string queue;  // list: producers LPUSH, consumers take from the right
  std::string retry;  // zset: job → due unix ms (retries and send_at)
  std::string dead;   // list: dead-letter entries
};

// The keys of the inactive-token registry and its feedback events (written by `feedback`).
class FeedbackKeys {
 public:
  explicit FeedbackKeys(std::string_view prefix);
  // Hash: token → {"reason","at"} of one app and platform.
  std::string inactive(std::string_view app, std::string_view platform) const;
  // Hash: token → unix ms of its latest reactivation (DELETE /tokens/...), so that an APNs 410
  // older than that does not mark it again. "{<inactive key>}:reactivated": its hash tag is
  // the whole inactive key, so both hash to one Cluster slot and one script holds both.
  std::string reactivated(std::string_view app, std::string_view platform) const;
  // List: feedback events for backends, newest first, capped.
  const std::string& events() const { return events_; }
  // List: the batch the webhook sender is delivering, oldest first; and the string naming the
  // instance that sends. Both "{<events key>}:...", in the events list's slot.
  const std::string& webhook_batch() const { return webhook_batch_; }
  const std::string& webhook_lease() const { return webhook_lease_; }

 private:
  std::string prefix_;
  std::string events_;
  std::string webhook_batch_;
  std::string webhook_lease_;
};

class Keys {
 public:
  explicit Keys(std::string prefix = "pushgw");

  const std::string& prefix() const { return prefix_; }

  const LaneKeys& lane(Lane lane) const { return lanes_[lane.index()]; }
  // List: the jobs `instance` holds from `lane`.
  std::string processing(Lane lane, std::string_view instance) const;

  // String with a TTL: `instance`'s heartbeat.
  std::string instance(std::string_view instance) const;
  const std::string& instances() const { return instances_; }        // set of instance names
  const std::string& reaper_lease() const { return reaper_lease_; }  // string with a TTL

  // String with a TTL: the job id that claimed notification `id` of `app`.
  std::string idempotency(std::string_view app, std::string_view id) const;

  const FeedbackKeys& feedback() const { return feedback_; }

  // Stream: the history of live web channel `channel` (its ids are the message ids); also the
  // name of its pub/sub channel. "<prefix>:web:{<channel>}": one slot per channel.
  std::string web_channel(std::string_view channel) const;

 private:
  std::string prefix_;
  std::array<LaneKeys, Lane::kCount> lanes_;
  std::string instances_;
  std::string reaper_lease_;
  FeedbackKeys feedback_;
};

}  // namespace pushgw::queue
