#include "pushgw/apns/reason.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "pushgw/h2/error.hpp"

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

// A short, printable excerpt of a body for error text.
std::string excerpt(std::string_view body) {
  constexpr std::size_t kMax = 80;
  std::string out;
  for (const char c : body.substr(0, kMax)) {
    const auto u = static_cast<unsigned char>(c);
    out += (u >= 0x20 && u < 0x7F) ? c : '?';
  }
  if (body.size() > kMax) out += "...";
  return out;
}

std::optional<std::int64_t> parse_timestamp(const nlohmann::json& body) {
  const auto it = body.find("timestamp");
  if (it == body.end()) return std::nullopt;
  if (it->is_number_integer()) return it->get<std::int64_t>();
  if (it->is_number_float()) return static_cast<std::int64_t>(it->get<double>());
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
  return parse_retry_after(*header, context.now.value_or(std::chrono::system_clock::now()));
}

// ---- Retry-After HTTP-date ---------------------------------------------------------------

std::vector<std::string_view> split_on_spaces(std::string_view text) {
  std::vector<std::string_view> parts;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && text[i] == ' ') ++i;
    const std::size_t start = i;
    while (i < text.size() && text[i] != ' ') ++i;
    if (i > start) parts.push_back(text.substr(start, i - start));
  }
  return parts;
}

std::optional<int> parse_int(std::string_view text, std::size_t min_digits, std::size_t max_digits) {
  if (text.size() < min_digits || text.size() > max_digits) return std::nullopt;
  int value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::optional<unsigned> parse_month(std::string_view name) {
  constexpr std::array<std::string_view, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  for (std::size_t i = 0; i < kMonths.size(); ++i) {
    if (name == kMonths[i]) return static_cast<unsigned>(i + 1);
  }
  return std::nullopt;
}

// "08:49:37" → seconds since midnight.
std::optional<seconds> parse_time_of_day(std::string_view text) {
  if (text.size() != 8 || text[2] != ':' || text[5] != ':') return std::nullopt;
  const auto h = parse_int(text.substr(0, 2), 2, 2);
  const auto m = parse_int(text.substr(3, 2), 2, 2);
  const auto s = parse_int(text.substr(6, 2), 2, 2);
  if (!h || !m || !s || *h > 23 || *m > 59 || *s > 60) return std::nullopt;
  return std::chrono::hours(*h) + std::chrono::minutes(*m) + seconds(*s);
}

std::optional<std::chrono::system_clock::time_point> make_time(int year, std::optional<unsigned> month,
                                                              std::optional<int> day,
                                                              std::optional<seconds> time_of_day) {
  if (!month || !day || !time_of_day || *day < 1) return std::nullopt;
  const std::chrono::year_month_day date{std::chrono::year(year), std::chrono::month(*month),
                                         std::chrono::day(static_cast<unsigned>(*day))};
  if (!date.ok()) return std::nullopt;
  return std::chrono::sys_days(date) + *time_of_day;
}

// The three date forms RFC 9110 §5.6.7 says a recipient must accept.
std::optional<std::chrono::system_clock::time_point> parse_http_date(std::string_view text) {
  const auto parts = split_on_spaces(text);
  if (parts.size() == 6 && parts[0].ends_with(',') && parts[5] == "GMT") {
    // IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT
    const auto year = parse_int(parts[3], 4, 4);
    if (!year) return std::nullopt;
    return make_time(*year, parse_month(parts[2]), parse_int(parts[1], 1, 2),
                     parse_time_of_day(parts[4]));
  }
  if (parts.size() == 4 && parts[0].ends_with(',') && parts[3] == "GMT") {
    // RFC 850: Sunday, 06-Nov-94 08:49:37 GMT
    const std::string_view date = parts[1];
    if (date.size() != 9 || date[2] != '-' || date[6] != '-') return std::nullopt;
    const auto two_digit_year = parse_int(date.substr(7, 2), 2, 2);
    if (!two_digit_year) return std::nullopt;
    // RFC 9110: a two-digit year more than 50 years ahead is in the past century; for a
    // Retry-After, "before 1970" can only mean the 2000s.
    const int year = *two_digit_year < 70 ? 2000 + *two_digit_year : 1900 + *two_digit_year;
    return make_time(year, parse_month(date.substr(3, 3)), parse_int(date.substr(0, 2), 2, 2),
                     parse_time_of_day(parts[2]));
  }
  if (parts.size() == 5) {
    // asctime: Sun Nov  6 08:49:37 1994
    const auto year = parse_int(parts[4], 4, 4);
    if (!year) return std::nullopt;
    return make_time(*year, parse_month(parts[1]), parse_int(parts[2], 1, 2),
                     parse_time_of_day(parts[3]));
  }
  return std::nullopt;
}

}  // namespace

std::optional<seconds> parse_retry_after(std::string_view value,
                                         std::chrono::system_clock::time_point now) {
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  if (value.empty()) return std::nullopt;

  if (std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    std::uint64_t delta = 0;
    const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), delta);
    if (ec == std::errc::result_out_of_range) return kMaxRetryAfter;
    if (ec != std::errc() || end != value.data() + value.size()) return std::nullopt;
    const auto cap = static_cast<std::uint64_t>(kMaxRetryAfter.count());
    return seconds(static_cast<seconds::rep>(std::min(delta, cap)));
  }

  const auto when = parse_http_date(value);
  if (!when) return std::nullopt;
  if (*when <= now) return seconds(0);
  // Round up: retrying a fraction of a second early would defeat the header.
  return std::min(std::chrono::ceil<seconds>(*when - now), kMaxRetryAfter);
}

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
      outcome.reason = "unparsable response body: no \"reason\" string in " + excerpt(body_json);
    }
  } else if (body_json.empty()) {
    outcome.reason = "unparsable response body: empty (HTTP " + std::to_string(status) + ")";
  } else {
    outcome.reason = "unparsable response body: not a JSON object: " + excerpt(body_json);
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

job::SendOutcome classify_transport_error(const boost::system::error_code& error) {
  job::SendOutcome outcome;
  outcome.status = 0;
  outcome.reason = "transport error: " + error.message();
  // The one error that is the notification's: the HTTP/2 layer could not even encode the
  // request (e.g. a pass-through header value with a newline). Resending cannot help.
  outcome.kind = error == h2::error::bad_request ? OutcomeKind::rejected : OutcomeKind::retry;
  outcome.unanswered = !h2::never_sent(error);
  return outcome;
}

}  // namespace pushgw::apns
