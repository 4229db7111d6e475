#pragma once
// What happened to one token's send: the provider-neutral result the dispatcher acts on.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace pushgw::job {

enum class OutcomeKind {
  delivered,          // accepted by the provider
  retry,              // transient (429, 5xx, timeout, connection loss): try again later
  token_dead,         // the token will never work again: mark inactive, report to the backend
  rejected,           // the provider refused this notification (bad payload...): dead-letter
  credentials_error,  // our credentials/config are wrong: not the notification's fault
};
inline constexpr std::size_t kOutcomeKinds = static_cast<std::size_t>(OutcomeKind::credentials_error) + 1;

struct SendOutcome {
  OutcomeKind kind = OutcomeKind::delivered;
  int status = 0;                                       // HTTP status, 0 when none (I/O error)
  std::string reason;                                   // provider reason / error text
  std::optional<std::chrono::seconds> retry_after;      // from Retry-After
  std::optional<std::int64_t> token_invalid_since_ms;   // APNs 410 timestamp
  std::string provider_id;                              // apns-id / FCM message name
  // The request went out but no answer came (connection lost, timeout, reset): the provider
  // may have delivered it. False for answers and for requests that never left.
  bool unanswered = false;
};

std::string_view to_string(OutcomeKind kind);

// A send that failed inside pushgw (an exception, not the provider's answer): tried again later.
inline SendOutcome internal_error_outcome() {
  SendOutcome outcome;
  outcome.kind = OutcomeKind::retry;
  outcome.reason = "internal_error";
  return outcome;
}

}  // namespace pushgw::job
