#pragma once
// What to do with one notification once every token's send has an outcome. Pure logic: the
// Dispatcher feeds it the outcomes and writes the result to Redis in one ack.
//
//   delivered          → done
//   token_dead         → mark the token inactive, report it on the feedback list (for device
//                        tokens only: for a web channel, FCM topic or condition, or APNs
//                        broadcast channel it is `rejected`)
//   rejected           → dead-letter (one entry per distinct provider reason)
//   retry              → a new, smaller job with only those tokens and attempt + 1, due after
//                        backoff with jitter (Retry-After honoured); after retries.max_attempts
//                        sends, dead-letter (retries_exhausted) instead; when its `expiration`
//                        passes before it is due, dead-letter (expired)
//   credentials_error  → our credentials are wrong, not the notification: retried after
//                        backoff_max without counting an attempt, so fixing the credentials
//                        delivers it (its `expiration` still applies)

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "pushgw/config/config.hpp"
#include "pushgw/feedback/inactive_tokens.hpp"
#include "pushgw/job/notification.hpp"
#include "pushgw/job/outcome.hpp"
#include "pushgw/queue/element.hpp"

namespace pushgw::dispatch {

struct TokenResult {
  std::string token;
  job::SendOutcome outcome;
};

struct RetryJob {
  job::Notification job;     // the tokens to try again; job.attempt already advanced
  std::int64_t due_ms = 0;
};

struct DeadJob {
  job::Notification job;     // the tokens this entry is about
  queue::DeadReason reason = queue::DeadReason::rejected;
  std::string error;
};

struct Plan {
  std::vector<RetryJob> retries;
  std::vector<DeadJob> dead;
  std::vector<feedback::DeadToken> dead_tokens;
  std::size_t delivered = 0;
};

// `n` is the notification as sent (with `job` set: job.attempt = sends already made before
// this one). `jitter` in [0, 1] (one draw per notification).
Plan plan_after_sends(const job::Notification& n, const std::vector<TokenResult>& results,
                      const config::RetriesConfig& retries, std::int64_t now_ms, double jitter);

// A notification flow control holds back before sending (a breaker open, the app's
// max_workers reached): `tokens` go to the retry ZSET due at `due_ms` without counting an
// attempt, or to the dead-letter list (expired) when its `expiration` passes first. `why`
// completes the dead letter's error.
Plan plan_parked(const job::Notification& n, std::vector<std::string> tokens, std::int64_t due_ms,
                 const std::string& why);

// "HTTP 400 BadDeviceToken", "timeout", ...: how an outcome reads in a dead-letter entry.
std::string describe(const job::SendOutcome& outcome);

}  // namespace pushgw::dispatch
