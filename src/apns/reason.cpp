#include "pushgw/apns/reason.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "pushgw/provider/retry_after.hpp"
#include "pushgw/common/quote.hpp"

namespace pushgw::apns {
namespace {

using job::OutcomeKind;
using std::chrono::seconds;

// How a reason string is classified. `notification_topic_kind` applies instead of `kind`
// when the notification chose its own topic (see ResponseContext).
struct ReasonRule {
  std::string_view reason;
  OutcomeKind kind;
  OutcomeKind notification_topic_kind;
};

constexpr ReasonRule rule(std::string_view reason, OutcomeKind kind) {
  return {reason, kind, kind};
}

// Apple's reason strings, by the status APNs sends them with.
constexpr std::array kReasonRules = {
    // 400
    rule("BadCollapseId", OutcomeKind::rejected),
    rule("BadDeviceToken", OutcomeKind::token_dead),
    rule("BadExpirationDate", OutcomeKind::rejected),
    rule("BadMessageId", OutcomeKind::rejected),
    rule("BadPriority", OutcomeKind::rejected),
    // Broadcasts: a channel is not a device, so nothing about it is a dead token.
    rule("BadChannelId", OutcomeKind::rejected),
    rule("ChannelNotRegistered", OutcomeKind::rejected),
    rule("MissingChannelId", OutcomeKind::rejected),
    rule("MissingPushType", OutcomeKind::rejected),
    rule("BadRequestParams", OutcomeKind::rejected),
    rule("BadRequestPayload", OutcomeKind::rejected),
    // The app lacks the broadcast capability, or its channel quota is used: its setup, not
    // the notification's fault.
    rule("FeatureNotEnabled", OutcomeKind::credentials_error),
    rule("CannotCreateChannelConfig", OutcomeKind::credentials_error),
    ReasonRule{"BadTopic", OutcomeKind::credentials_error, OutcomeKind::rejected},
    ReasonRule{"DeviceTokenNotForTopic", OutcomeKind::token_dead, OutcomeKind::rejected},
    rule("DuplicateHeaders", OutcomeKind::rejected),
    rule("IdleTimeout", OutcomeKind::retry),  // the connection idled out: resend on a fresh one
    rule("InvalidPushType", OutcomeKind::rejected),
    rule("MissingDeviceToken", OutcomeKind::rejected),
    // Sent only when neither the notification nor the app's config named a topic.
    rule("MissingTopic", OutcomeKind::credentials_error),
    rule("PayloadEmpty", OutcomeKind::rejected),
    ReasonRule{"TopicDisallowed", OutcomeKind::credentials_error, OutcomeKind::rejected},
    // 403
    rule("BadCertificate", OutcomeKind::credentials_error),
    rule("BadCertificateEnvironment", OutcomeKind::credentials_error),
    rule("ExpiredProviderToken", OutcomeKind::retry),  // the provider refreshes the token first
    rule("Forbidden", OutcomeKind::credentials_error),
    rule("InvalidProviderToken", OutcomeKind::credentials_error),
    rule("MissingProviderToken", OutcomeKind::credentials_error),
    rule("TopicMismatch", OutcomeKind::credentials_error),
    rule("UnrelatedKeyIdInToken", OutcomeKind::credentials_error),
    rule("BadEnvironmentKeyIdInToken", OutcomeKind::credentials_error),
    // 404, 405
    rule("BadPath", OutcomeKind::credentials_error),
    rule("MethodNotAllowed", OutcomeKind::credentials_error),
    // 410
    rule("ExpiredToken", OutcomeKind::token_dead),
    rule("Unregistered", OutcomeKind::token_dead),
    // 413
    rule("PayloadTooLarge", OutcomeKind::rejected),
    // 429
    rule("TooManyProviderTokenUpdates", OutcomeKind::credentials_error),
    rule("TooManyRequests", OutcomeKind::retry),
    // 500, 503
    rule("InternalServerError", OutcomeKind::retry),
    rule("ServiceUnavailable", OutcomeKind::retry),
    rule("Shutdown", OutcomeKind::retry),
};

// The classification of a status whose reason is missing or unknown to us.
OutcomeKind kind_for_status(int status) {
  if (status >= 500 && status <= 599) return OutcomeKind::retry;
  switch (status) {
    case 403: return OutcomeKind::credentials_error;  // "error with the certificate or token"
    case 404:
    case 405: return OutcomeKind::credentials_error;
    case 410: return OutcomeKind::token_dead;
    case 429: return OutcomeKind::retry;
    default: return OutcomeKind::rejected;  // 400, 413, and anything APNs does not send
  }
}

std::optional<std::int64_t> parse_timestamp(const nlohmann::json& body) {
  const auto it = body.find("timestamp");
  if (it == body.end()) return std::nullopt;
  if (it->is_number_integer()) return it->get<std::int64_t>();
  if (it->is_number_float()) {
    // Converting a double outside int64's range is undefined behaviour; NaN fails both tests.
    const double value = it->get<double>();
    if (value > -0x1p63 && value < 0x1p63) return static_cast<std::int64_t>(value);
    return std::nullopt;
  }
  if (it->is_string()) {
    const auto& text = it->get_ref<const std::string&>();
    std::int64_t value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec == std::errc() && end == text.data() + text.size()) return value;
  }
  return std::nullopt;
}

std::optional<seconds> retry_after_for(std::optional<std::string_view> header,
                                       const ResponseContext& context) {
  if (!header) return std::nullopt;
  return provider::parse_retry_after(*header, context.now.value_or(std::chrono::system_clock::now()));
}

}  // namespace

job::SendOutcome classify_apns_response(int status, std::string_view body_json,
                                        std::optional<std::string_view> retry_after_header,
                                        const ResponseContext& context) {
  job::SendOutcome outcome;
  outcome.status = status;
  if (status == 200) {
    outcome.kind = OutcomeKind::delivered;
    return outcome;
  }

  nlohmann::json body = nlohmann::json::parse(body_json, nullptr, /*allow_exceptions=*/false);
  const ReasonRule* matched = nullptr;
  if (body.is_object()) {
    const auto it = body.find("reason");
    if (it != body.end() && it->is_string()) {
      const auto& reason = it->get_ref<const std::string&>();
      const auto found = std::find_if(kReasonRules.begin(), kReasonRules.end(),
                                      [&](const ReasonRule& r) { return r.reason == reason; });
      if (found != kReasonRules.end()) matched = &*found;
      outcome.reason = reason;
      if (reason.empty()) outcome.reason = "HTTP " + std::to_string(status) + " with an empty reason";
    } else {
      outcome.reason = "unparsable response body: no \"reason\" string in " + common::printable(body_json, 80);
    }
  } else if (body_json.empty()) {
    outcome.reason = "unparsable response body: empty (HTTP " + std::to_string(status) + ")";
  } else {
    outcome.reason = "unparsable response body: not a JSON object: " + common::printable(body_json, 80);
  }

  if (matched != nullptr) {
    outcome.kind = context.topic_from_notification ? matched->notification_topic_kind : matched->kind;
  } else {
    outcome.kind = kind_for_status(status);
    const bool known_status = status == 400 || status == 403 || status == 404 || status == 405 ||
                              status == 410 || status == 413 || status == 429 ||
                              (status >= 500 && status <= 599);
    if (!known_status && body.is_object() && !outcome.reason.starts_with("unparsable")) {
      outcome.reason = "unexpected HTTP status " + std::to_string(status) + ": " + outcome.reason;
    }
  }

  if (outcome.kind == OutcomeKind::token_dead && body.is_object()) {
    outcome.token_invalid_since_ms = parse_timestamp(body);
  }
  if (outcome.kind == OutcomeKind::retry) {
    outcome.retry_after = retry_after_for(retry_after_header, context);
  }
  return outcome;
}

}  // namespace pushgw::apns
