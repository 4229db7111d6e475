#pragma once
// The Lua scripts that make queue operations atomic. Each touches only keys of one hash tag
// (one lane, one idempotency key, the reaper lease), so they also run on Redis Cluster. They
// are sent with EVALSHA; a Redis that does not know one yet (first use, or after a restart)
// answers NOSCRIPT and the caller sends it with EVAL, which also loads it (eval_script).

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/system/error_code.hpp>

#include "pushgw/redis/client.hpp"

namespace pushgw::queue {

struct Script {
  std::string_view name;  // for error messages
  std::string_view text;
  std::string sha1;       // lowercase hex, computed from text
};

// KEYS: queue, processing. ARGV: n. Moves up to n elements from the queue's consumer end
// (right) to the processing list's left; returns them in the order taken. (Also the webhook
// sender's: from the feedback events to its batch list.)
const Script& take_script();

// KEYS: processing, retry, dead. ARGV: element, z, (score, member) × z, d, entry × d.
// Several acks of one lane: for each, removes one copy of its element from processing and,
// only if it was there, ZADDs its retry members and LPUSHes its dead-letter entries. Returns
// how many elements were removed (an element not in processing was acked before: running an
// ack twice changes nothing).
const Script& ack_script();

// KEYS: processing, queue, dead. ARGV: (element, replacement, "queue" | "dead") × n.
// For each element still in processing: removes it and RPUSHes the replacement at the
// queue's consumer end (or LPUSHes it on the dead list). Returns {requeued, dead}.
const Script& requeue_script();

// KEYS: retry, queue. ARGV: now_ms, n. Moves up to n members due at or before now_ms to the
// queue's consumer end. Returns how many moved.
const Script& due_script();

// KEYS: processing, retry, dead. ARGV: element, replacement, z, (score, member) × z, d,
// entry × d. Swaps one copy of element for the replacement and, only if it was there, ZADDs
// the retry members and LPUSHes the dead-letter entries (a checkpoint: what has an outcome
// leaves the element). Returns 1, or 0 when the element was not there (running it twice
// changes nothing).
const Script& replace_script();

// KEYS: idempotency key. ARGV: job id, ttl_ms. 1 when the key was free (now set to the job
// id) or already holds this job id (a retry or redelivery of the same job); 0 when another
// job already claimed it.
const Script& claim_script();

// KEYS: a lease (the reaper's, the webhook sender's). ARGV: instance, ttl_ms. Takes the lease
// when it is free, renews it (for ttl_ms from now) when `instance` holds it: 1; 0 when another
// instance holds it.
const Script& lease_script();

// KEYS: dead, queue (one lane). ARGV: (entry, element) × n. For each entry still on the dead
// list: removes one copy (from the old end) and RPUSHes the element at the queue's consumer
// end. Returns how many moved.
const Script& replay_script();

// The feedback keys (queue::FeedbackKeys): each script's keys share one slot.

// KEYS: inactive hash, reactivated hash. ARGV: (token, value, invalid_since_ms or "") × n.
// HSETs each token's value unless the token was reactivated after its invalid_since. Returns
// the 1-based positions of the tokens marked.
const Script& mark_script();

// KEYS: inactive hash, reactivated hash. ARGV: token, now_ms. Removes the token's mark and
// records the reactivation. Returns 1 when it was marked, else 0.
const Script& reactivate_script();

// KEYS: a hash. ARGV: cursor, cutoff_ms, count, pattern. One HSCAN page: deletes the fields
// whose value's time (the pattern's capture) is before cutoff_ms. Returns {next cursor, deleted}.
const Script& expire_script();

// KEYS: a web channel's stream (Keys::web_channel). ARGV: notification JSON, history, ttl_ms.
// Appends the message to the channel's history (capped at `history` entries, the oldest
// removed with XDEL so that XINFO STREAM's max-deleted-entry-id records them; expiring ttl_ms
// after the last message) and publishes "<id> <notification JSON>" on the pub/sub channel of
// the same name. Returns the message id.
const Script& publish_script();
// KEYS: a web channel's stream. ARGV: after (a message id, normalised "<ms>-<seq>"). The
// messages from `after` on, oldest first: {gap, has_after, id1, json1, id2, json2, ...}; gap 1
// when a message after `after` was already removed from the history (the caller cannot replay
// everything it missed), has_after 1 when `after` itself is in this history (it is then the
// first entry).
const Script& replay_after_script();

// Runs `script` on `redis`: EVALSHA, then EVAL when Redis answers NOSCRIPT. The reply, or
// redis::error::unexpected_reply with the error reply when the script failed.
boost::asio::awaitable<std::pair<boost::system::error_code, redis::Reply>> eval_script(
    redis::Client& redis, const Script& script, const std::vector<std::string>& keys,
    const std::vector<std::string>& args);

}  // namespace pushgw::queue
