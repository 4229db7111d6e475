// Fuzzes the classification of provider answers: APNs (apns::classify_apns_response), FCM
// (fcm::classify_fcm_response, describe_fcm_error) and Google's OAuth token endpoint
// (fcm::parse_token_response). An input is one header line, then the response body:
//
//   <apns|apns-topic|fcm|oauth> <HTTP status>[ <Retry-After value>]\n<body>
//
// ("apns-topic": the notification chose its own topic). Traps when an outcome is not one of
// the kinds, keeps a different status, calls a 200 anything but delivered (or delivered
// anything else), carries a Retry-After out of range or on an outcome that is not a retry,
// a 410 timestamp on one that is not token_dead, gives no reason for a failure, or when FCM's
// and OAuth's labels and log text are not the bounded, printable text they promise.

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "pushgw/apns/reason.hpp"
#include "pushgw/fcm/oauth.hpp"
#include "pushgw/fcm/reason.hpp"
#include "pushgw/provider/retry_after.hpp"

namespace {

using namespace pushgw;
using job::OutcomeKind;

// A fixed "now" for Retry-After dates, so that an input always classifies the same.
const auto kNow = std::chrono::system_clock::time_point(std::chrono::seconds(1'700'000'000));

bool printable_ascii(std::string_view text, std::size_t max_bytes) {
  return text.size() <= max_bytes &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= 0x20 && c < 0x7F; });
}

// A label fit for a metric: upper-case words ("UNREGISTERED") or "HTTP <status>".
bool fcm_label(std::string_view reason, int status) {
  if (reason == "HTTP " + std::to_string(status)) return true;
  return !reason.empty() && reason.size() <= 40 &&
         std::all_of(reason.begin(), reason.end(), [](char c) { return (c >= 'A' && c <= 'Z') || c == '_'; });
}

void check_outcome(const job::SendOutcome& outcome, int status) {
  if (static_cast<std::size_t>(outcome.kind) >= job::kOutcomeKinds) __builtin_trap();
  if (outcome.status != status || outcome.unanswered) __builtin_trap();
  if ((status == 200) != (outcome.kind == OutcomeKind::delivered)) __builtin_trap();
  if (outcome.kind != OutcomeKind::delivered && outcome.reason.empty()) __builtin_trap();
  if (outcome.retry_after) {
    if (outcome.kind != OutcomeKind::retry) __builtin_trap();
    if (outcome.retry_after->count() < 0 || *outcome.retry_after > provider::kMaxRetryAfter) __builtin_trap();
  }
  if (outcome.token_invalid_since_ms && outcome.kind != OutcomeKind::token_dead) __builtin_trap();
}

void check_oauth(const fcm::TokenResponse& response, int status) {
  if (const auto* token = std::get_if<fcm::AccessToken>(&response)) {
    if (status != 200 || token->value.empty() || token->expires_in.count() <= 0) __builtin_trap();
    return;
  }
  const auto& error = std::get<fcm::TokenError>(response);
  const bool verdict = status >= 400 && status < 500 && status != 408 && status != 429;
  if (error.kind == fcm::TokenError::Kind::credentials && !verdict) __builtin_trap();
  if (error.reason.empty() || !printable_ascii(error.reason, 64)) __builtin_trap();
  if (!printable_ascii(error.message, 400)) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const auto newline = input.find('\n');
  if (newline == std::string_view::npos) return 0;
  const std::string_view header = input.substr(0, newline);
  const std::string_view body = input.substr(newline + 1);

  const auto space = header.find(' ');
  if (space == std::string_view::npos) return 0;
  const std::string_view which = header.substr(0, space);
  std::string_view rest = header.substr(space + 1);
  int status = 0;
  const auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), status);
  if (ec != std::errc()) return 0;
  rest.remove_prefix(static_cast<std::size_t>(end - rest.data()));
  std::optional<std::string_view> retry_after;
  if (rest.starts_with(' ')) retry_after = rest.substr(1);

  if (which == "apns" || which == "apns-topic") {
    const apns::ResponseContext context{.topic_from_notification = which == "apns-topic", .now = kNow};
    check_outcome(apns::classify_apns_response(status, body, retry_after, context), status);
  } else if (which == "fcm") {
    const auto outcome = fcm::classify_fcm_response(status, body, retry_after, kNow);
    check_outcome(outcome, status);
    if (outcome.kind != OutcomeKind::delivered && !fcm_label(outcome.reason, status)) __builtin_trap();
    if (!printable_ascii(fcm::describe_fcm_error(status, body), 300)) __builtin_trap();
  } else if (which == "oauth") {
    check_oauth(fcm::parse_token_response(status, body), status);
  }
  return 0;
}
