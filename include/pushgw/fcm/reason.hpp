#pragma once
// FCM HTTP v1 response → provider-neutral SendOutcome.
//
// An error body is {"error": {"code", "message", "status", "details": [...]}}. The error code
// is the `errorCode` of the details entry whose "@type" is
// "type.googleapis.com/google.firebase.fcm.v1.FcmError"; without one, `status` (the
// google.rpc.Code name) is used. Classified by whose fault it is:
//   delivered          200 (provider_id = the message `name`)
//   token_dead         UNREGISTERED (404); SENDER_ID_MISMATCH (403: the token belongs to
//                      another Firebase project); INVALID_ARGUMENT (400) whose message or
//                      field violation says the registration token is invalid
//   retry              QUOTA_EXCEEDED / RESOURCE_EXHAUSTED (429), UNAVAILABLE (503),
//                      INTERNAL (500), any other 5xx; with Retry-After when given
//   credentials_error  UNAUTHENTICATED and THIRD_PARTY_AUTH_ERROR (401), PERMISSION_DENIED
//                      (403) without SENDER_ID_MISMATCH, NOT_FOUND without UNREGISTERED (the
//                      endpoint or project is wrong: no token is to blame)
//   rejected           other INVALID_ARGUMENT (400), other 4xx, unexpected statuses
// (The provider turns a 401 UNAUTHENTICATED into a retry when dropping the access token may
// fix it; see provider.hpp.)
//
// The outcome's `reason` is always from a fixed set, fit for a metrics label: the FcmError
// code or google.rpc status name when it is one we know, else "HTTP <status>". Free text from
// the body goes to describe_fcm_error(), for logs only.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>


#include "pushgw/job/outcome.hpp"

namespace pushgw::fcm {

inline constexpr std::string_view kFcmErrorType = "type.googleapis.com/google.firebase.fcm.v1.FcmError";

// `now` turns a Retry-After HTTP-date into seconds; nullopt = the system clock.
job::SendOutcome classify_fcm_response(int status, std::string_view body_json,
                                       std::optional<std::string_view> retry_after_header,
                                       std::optional<std::chrono::system_clock::time_point> now = std::nullopt);

// "404 UNREGISTERED: Requested entity was not found." — status, code and the body's message
// (printable ASCII, shortened), for log lines. Never used as a label.
std::string describe_fcm_error(int status, std::string_view body_json);

}  // namespace pushgw::fcm
