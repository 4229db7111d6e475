#pragma once
// Splitting one accepted notification into stored jobs of at most `max_tokens` tokens each.
//
// Job ids: 128 bits from OpenSSL's CSPRNG (RAND_bytes), as 32 lowercase hex digits. They are
// not time-ordered: `job.enqueued_ms` carries the time.
//
// Idempotency keys: a notification with an `id` that becomes N > 1 jobs gives job k
// (0-based, in token order) the id "<id>#<k>", so each job is idempotent on its own; a
// notification that fits in one job keeps its `id` unchanged. Splitting is deterministic (same
// tokens, same max_tokens → same chunks and keys), so a producer retrying a request gets the
// same keys.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "pushgw/job/notification.hpp"

namespace pushgw::job {

// Gives a new, unique job id on each call. Must be safe to call from several threads when
// shared (random_job_id is).
using JobIdSource = std::function<std::string()>;

// 32 lowercase hex digits from RAND_bytes. Throws std::runtime_error when the CSPRNG fails
// (it does not on a working system; ids must never be guessable or repeat).
std::string random_job_id();

// Jobs of at most max_tokens tokens (0 counts as 1), token order kept, each a copy of `n` with
// JobMeta {id from `ids`, enqueued_ms = now_ms, attempt 0, redeliveries 0}, the idempotency key
// derived as described above and, when `effective_app` is non-empty, `app` set to it (pass
// resolve_app's answer so stored jobs never depend on the config having one app).
std::vector<Notification> split_into_jobs(const Notification& n, std::size_t max_tokens,
                                          const JobIdSource& ids, std::int64_t now_ms,
                                          std::string_view effective_app = {});

}  // namespace pushgw::job
