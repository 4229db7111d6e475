#include "pushgw/fcm/reason.hpp"

#include <algorithm>
#include <array>
#include <cctype>

#include <nlohmann/json.hpp>

#include "pushgw/provider/retry_after.hpp"
#include "pushgw/common/quote.hpp"

namespace pushgw::fcm {
namespace {

using job::OutcomeKind;
using nlohmann::json;

// FCM's ErrorCode enum and the google.rpc.Code names FCM answers with: the only strings from
// a body that may become a reason.
constexpr std::array<std::string_view, 17> kKnownCodes = {
    // FcmError.errorCode
    "UNSPECIFIED_ERROR", "INVALID_ARGUMENT", "UNREGISTERED", "SENDER_ID_MISMATCH", "QUOTA_EXCEEDED",
    "UNAVAILABLE", "INTERNAL", "THIRD_PARTY_AUTH_ERROR",
    // google.rpc status
    "UNAUTHENTICATED", "PERMISSION_DENIED", "NOT_FOUND", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
    "DEADLINE_EXCEEDED", "ABORTED", "UNIMPLEMENTED", "OUT_OF_RANGE"};

bool known(std::string_view code) {
  return std::find(kKnownCodes.begin(), kKnownCodes.end(), code) != kKnownCodes.end();
}

std::string string_field(const json& object, const char* name) {
  if (!object.is_object()) return {};
  const auto it = object.find(name);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// The parts of an error body that classification needs.
struct ErrorBody {
  std::string error_code;  // FcmError.errorCode, "" without one
  std::string status;      // google.rpc status name
  std::string message;     // free text, for logs and the invalid-token check only
  bool token_field_violation = false;  // a google.rpc.BadRequest naming message.token
};

ErrorBody parse_error_body(std::string_view body_json) {
  ErrorBody parsed;
  const json body = json::parse(body_json, nullptr, /*allow_exceptions=*/false);
  if (!body.is_object()) return parsed;
  const auto error = body.find("error");
  if (error == body.end() || !error->is_object()) return parsed;
  parsed.status = string_field(*error, "status");
  parsed.message = string_field(*error, "message");
  const auto details = error->find("details");
  if (details == error->end() || !details->is_array()) return parsed;
  for (const auto& detail : *details) {
    const std::string type = string_field(detail, "@type");
    if (type == kFcmErrorType && parsed.error_code.empty()) parsed.error_code = string_field(detail, "errorCode");
    if (type == "type.googleapis.com/google.rpc.BadRequest") {
      const auto violations = detail.find("fieldViolations");
      if (violations == detail.end() || !violations->is_array()) continue;
      for (const auto& violation : *violations) {
        if (string_field(violation, "field") == "message.token") parsed.token_field_violation = true;
      }
    }
  }
  return parsed;
}

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

// FCM answers INVALID_ARGUMENT both for a bad token and for a bad message; only the message
// (e.g. "The registration token is not a valid FCM registration token") or a field violation
// on message.token tells them apart.
bool says_token_invalid(const ErrorBody& body) {
  if (body.token_field_violation) return true;
  const std::string text = lower(body.message);
  return text.find("registration token") != std::string::npos &&
         (text.find("not a valid") != std::string::npos || text.find("invalid") != std::string::npos);
}

OutcomeKind kind_for(int status, const std::string& code, const ErrorBody& body) {
  if (code == "UNREGISTERED" || code == "SENDER_ID_MISMATCH") return OutcomeKind::token_dead;
  if (code == "INVALID_ARGUMENT") return says_token_invalid(body) ? OutcomeKind::token_dead : OutcomeKind::rejected;
  if (code == "QUOTA_EXCEEDED" || code == "RESOURCE_EXHAUSTED" || code == "UNAVAILABLE" || code == "INTERNAL" ||
      code == "DEADLINE_EXCEEDED" || code == "ABORTED") {
    return OutcomeKind::retry;
  }
  if (code == "UNAUTHENTICATED" || code == "THIRD_PARTY_AUTH_ERROR" || code == "PERMISSION_DENIED" ||
      code == "NOT_FOUND") {
    return OutcomeKind::credentials_error;
  }
  // UNSPECIFIED_ERROR, an unknown code, or no body: by status.
  if (status >= 500 && status <= 599) return OutcomeKind::retry;
  switch (status) {
    case 401:
    case 403:
    case 404: return OutcomeKind::credentials_error;
    case 408:
    case 429: return OutcomeKind::retry;
    default: return OutcomeKind::rejected;
  }
}

// The errorCode when it says more than UNSPECIFIED_ERROR, else the status; "" when neither
// is one we know.
std::string code_of(const ErrorBody& body) {
  if (known(body.error_code) && body.error_code != "UNSPECIFIED_ERROR") return body.error_code;
  if (known(body.status)) return body.status;
  if (known(body.error_code)) return body.error_code;
  return {};
}

}  // namespace

job::SendOutcome classify_fcm_response(int status, std::string_view body_json,
                                       std::optional<std::string_view> retry_after_header,
                                       std::optional<std::chrono::system_clock::time_point> now) {
  job::SendOutcome outcome;
  outcome.status = status;
  if (status == 200) {
    outcome.kind = OutcomeKind::delivered;
    const json body = json::parse(body_json, nullptr, /*allow_exceptions=*/false);
    outcome.provider_id = string_field(body, "name");
    return outcome;
  }
  const ErrorBody body = parse_error_body(body_json);
  const std::string code = code_of(body);
  outcome.kind = kind_for(status, code, body);
  outcome.reason = code.empty() ? "HTTP " + std::to_string(status) : code;
  if (outcome.kind == OutcomeKind::retry && retry_after_header) {
    outcome.retry_after =
        provider::parse_retry_after(*retry_after_header, now.value_or(std::chrono::system_clock::now()));
  }
  return outcome;
}

std::string describe_fcm_error(int status, std::string_view body_json) {
  const ErrorBody body = parse_error_body(body_json);
  std::string text = std::to_string(status);
  const std::string code = code_of(body);
  text += ' ';
  text += code.empty() ? "(no FCM error code)" : code;
  if (!body.message.empty()) {
    text += ": ";
    text += common::printable(body.message, 200);
  } else if (code.empty() && !body_json.empty()) {
    text += ": ";
    text += common::printable(body_json, 80);
  }
  return text;
}

}  // namespace pushgw::fcm
