#pragma once
// What the queue module does with the text of one Redis list element, without I/O: naming it,
// marking it redelivered, and wrapping it into a dead-letter entry.
//
// An element is what a producer LPUSHed (one Notification, or a whole {"notifications": [...]}
// body, without `job`) or what pushgw stored (one Notification with `job`). Elements without
// `job` get an id derived from their text (element_job_id), so the same element gets the same id
// on every delivery: idempotency keys rely on it.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pushgw/job/notification.hpp"

namespace pushgw::queue {

// 32 lowercase hex digits of SHA-256(text): a stable id for an element stored without `job`.
std::string element_job_id(std::string_view element);

// The element text of decoded notifications: one Notification, or {"notifications": [...]}.
std::string encode_element(const std::vector<job::Notification>& notifications);

struct Redelivery {
  std::string element;   // the text to put back (equal to the input when it cannot be decoded)
  int redeliveries = 0;  // the element's count after this redelivery (0 when not decodable)
  bool exhausted = false;  // redeliveries > max_redeliveries: dead-letter instead of requeueing
};

// The element with job.redeliveries incremented in each of its notifications (`job` added
// when missing, with the derived id). An element that does not decode is returned unchanged:
// the dispatcher dead-letters it with its parse error.
Redelivery mark_redelivered(std::string_view element, std::size_t max_redeliveries);

// Why a job went to the dead-letter list: a fixed set, so the dead_letters_total{reason}
// series stay bounded.
enum class DeadReason {
  malformed,          // not JSON, or not a Notification (the error says where)
  invalid,            // decodes, but cannot be sent (unknown app, bad token...)
  rejected,           // the provider refused the notification
  retries_exhausted,  // transient failures until retries.max_attempts
  redelivered,        // recovered from dead instances more than queue.max_redeliveries times
  expired,            // its `expiration` passed before it could be delivered
};
std::string_view to_string(DeadReason reason);
// The reason named `name`; nullopt for another word.
std::optional<DeadReason> parse_dead_reason(std::string_view name);
inline constexpr DeadReason kDeadReasons[] = {DeadReason::malformed,         DeadReason::invalid,
                                              DeadReason::rejected,          DeadReason::retries_exhausted,
                                              DeadReason::redelivered,       DeadReason::expired};

struct DeadLetter {
  DeadReason reason = DeadReason::malformed;
  std::string error;     // what exactly went wrong (parse error with path, provider reason...)
  std::string lane;
  std::string instance;
  std::int64_t at_ms = 0;
};

// The dead-letter list element: {"reason", "error", "lane", "instance", "at", and "job" (the
// element as JSON when it parses) or "raw" (its text when it does not)}.
std::string dead_letter_entry(std::string_view element, const DeadLetter& letter);

}  // namespace pushgw::queue
