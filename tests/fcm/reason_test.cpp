// FCM response → SendOutcome for every error Google documents for the v1 API, with bodies in
// the shape FCM (and pushgw-sim) send them.

#include "pushgw/fcm/reason.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "pushgw/h2/error.hpp"

namespace pushgw::fcm {
namespace {

using job::OutcomeKind;
using ::testing::HasSubstr;
using namespace std::chrono_literals;

// {"error": {"code", "message", "status", "details": [FcmError]}}, as pushgw-sim's error_body.
std::string body(int code, const std::string& status, const std::string& error_code, const std::string& message) {
  nlohmann::json error = {{"code", code}, {"message", message}, {"status", status}};
  if (!error_code.empty()) {
    error["details"] = nlohmann::json::array(
        {{{"@type", "type.googleapis.com/google.firebase.fcm.v1.FcmError"}, {"errorCode", error_code}}});
  }
  return nlohmann::json{{"error", error}}.dump();
}

job::SendOutcome classify(int status, const std::string& body_json, std::optional<std::string_view> retry_after = {}) {
  return classify_fcm_response(status, body_json, retry_after, std::chrono::system_clock::time_point{});
}

TEST(FcmReason, DeliveredCarriesTheMessageName) {
  const auto outcome = classify(200, R"({"name": "projects/p/messages/0:123"})");
  EXPECT_EQ(outcome.kind, OutcomeKind::delivered);
  EXPECT_EQ(outcome.status, 200);
  EXPECT_EQ(outcome.provider_id, "projects/p/messages/0:123");
  EXPECT_TRUE(outcome.reason.empty());
  EXPECT_EQ(classify(200, "").provider_id, "");  // still delivered
  EXPECT_EQ(classify(200, "").kind, OutcomeKind::delivered);
}

TEST(FcmReason, UnregisteredIsADeadToken) {
  const auto outcome = classify(404, body(404, "NOT_FOUND", "UNREGISTERED", "Requested entity was not found."));
  EXPECT_EQ(outcome.kind, OutcomeKind::token_dead);
  EXPECT_EQ(outcome.status, 404);
  EXPECT_EQ(outcome.reason, "UNREGISTERED");
}

TEST(FcmReason, SenderIdMismatchIsADeadToken) {
  const auto outcome = classify(403, body(403, "PERMISSION_DENIED", "SENDER_ID_MISMATCH", "SenderId mismatch"));
  EXPECT_EQ(outcome.kind, OutcomeKind::token_dead);
  EXPECT_EQ(outcome.reason, "SENDER_ID_MISMATCH");
}

TEST(FcmReason, InvalidRegistrationTokenIsADeadToken) {
  auto outcome = classify(400, body(400, "INVALID_ARGUMENT", "INVALID_ARGUMENT",
                                    "The registration token is not a valid FCM registration token"));
  EXPECT_EQ(outcome.kind, OutcomeKind::token_dead);
  EXPECT_EQ(outcome.reason, "INVALID_ARGUMENT");

  // A field violation on message.token says the same.
  const std::string violation = R"({"error": {"code": 400, "message": "Invalid value", "status": "INVALID_ARGUMENT",
      "details": [{"@type": "type.googleapis.com/google.rpc.BadRequest",
                   "fieldViolations": [{"field": "message.token", "description": "Invalid registration token"}]}]}})";
  outcome = classify(400, violation);
  EXPECT_EQ(outcome.kind, OutcomeKind::token_dead);
  EXPECT_EQ(outcome.reason, "INVALID_ARGUMENT");
}

TEST(FcmReason, OtherInvalidArgumentsRejectTheNotification) {
  auto outcome = classify(400, body(400, "INVALID_ARGUMENT", "INVALID_ARGUMENT",
                                    "Invalid value at 'message.android.priority': \"URGENT\""));
  EXPECT_EQ(outcome.kind, OutcomeKind::rejected);
  EXPECT_EQ(outcome.reason, "INVALID_ARGUMENT");

  const std::string data_violation = R"({"error": {"code": 400,
      "message": "Invalid value at 'message.data[0].value' (TYPE_STRING), 12", "status": "INVALID_ARGUMENT",
      "details": [{"@type": "type.googleapis.com/google.rpc.BadRequest",
                   "fieldViolations": [{"field": "message.data[0].value", "description": "bad"}]}]}})";
  outcome = classify(400, data_violation);
  EXPECT_EQ(outcome.kind, OutcomeKind::rejected);
  EXPECT_EQ(outcome.reason, "INVALID_ARGUMENT");
}

TEST(FcmReason, QuotaAndServerErrorsRetryHonouringRetryAfter) {
  auto outcome = classify(429, body(429, "RESOURCE_EXHAUSTED", "QUOTA_EXCEEDED", "Quota exceeded"), "30");
  EXPECT_EQ(outcome.kind, OutcomeKind::retry);
  EXPECT_EQ(outcome.reason, "QUOTA_EXCEEDED");
  EXPECT_EQ(outcome.retry_after, 30s);

  outcome = classify(429, body(429, "RESOURCE_EXHAUSTED", "", "Quota exceeded"));
  EXPECT_EQ(outcome.kind, OutcomeKind::retry);
  EXPECT_EQ(outcome.reason, "RESOURCE_EXHAUSTED");
  EXPECT_FALSE(outcome.retry_after.has_value());

  outcome = classify(503, body(503, "UNAVAILABLE", "UNAVAILABLE", "The service is currently unavailable."), "5");
  EXPECT_EQ(outcome.kind, OutcomeKind::retry);
  EXPECT_EQ(outcome.reason, "UNAVAILABLE");
  EXPECT_EQ(outcome.retry_after, 5s);

  outcome = classify(500, body(500, "INTERNAL", "INTERNAL", "Internal error encountered."));
  EXPECT_EQ(outcome.kind, OutcomeKind::retry);
  EXPECT_EQ(outcome.reason, "INTERNAL");

  // An HTTP-date, relative to `now` (the epoch here).
  outcome = classify(503, body(503, "UNAVAILABLE", "", ""), "Thu, 01 Jan 1970 00:01:00 GMT");
  EXPECT_EQ(outcome.retry_after, 60s);
}

TEST(FcmReason, AuthenticationAndPermissionProblemsAreCredentialsErrors) {
  auto outcome = classify(401, body(401, "UNAUTHENTICATED", "", "Request had invalid authentication credentials."));
  EXPECT_EQ(outcome.kind, OutcomeKind::credentials_error);
  EXPECT_EQ(outcome.reason, "UNAUTHENTICATED");

  outcome = classify(401, body(401, "UNAUTHENTICATED", "THIRD_PARTY_AUTH_ERROR", "Auth error from APNS"));
  EXPECT_EQ(outcome.kind, OutcomeKind::credentials_error);
  EXPECT_EQ(outcome.reason, "THIRD_PARTY_AUTH_ERROR");

  outcome = classify(403, body(403, "PERMISSION_DENIED", "", "Permission 'cloudmessaging.messages.create' denied"));
  EXPECT_EQ(outcome.kind, OutcomeKind::credentials_error);
  EXPECT_EQ(outcome.reason, "PERMISSION_DENIED");

  // NOT_FOUND without UNREGISTERED: the endpoint or project is wrong; no token is to blame.
  outcome = classify(404, body(404, "NOT_FOUND", "", "The requested URL was not found."));
  EXPECT_EQ(outcome.kind, OutcomeKind::credentials_error);
  EXPECT_EQ(outcome.reason, "NOT_FOUND");
}

TEST(FcmReason, UnspecifiedErrorFallsBackToTheStatus) {
  auto outcome = classify(503, body(503, "UNAVAILABLE", "UNSPECIFIED_ERROR", "x"));
  EXPECT_EQ(outcome.kind, OutcomeKind::retry);
  EXPECT_EQ(outcome.reason, "UNAVAILABLE");
  outcome = classify(400, body(400, "SOMETHING_NEW", "UNSPECIFIED_ERROR", "x"));
  EXPECT_EQ(outcome.kind, OutcomeKind::rejected);
  EXPECT_EQ(outcome.reason, "UNSPECIFIED_ERROR");
}

TEST(FcmReason, UnknownCodesAndBodiesNeverBecomeReasons) {
  // Free text in the body must not reach a metrics label.
  auto outcome = classify(400, body(400, "MADE_UP_STATUS", "MADE_UP_CODE", "free text"));
  EXPECT_EQ(outcome.kind, OutcomeKind::rejected);
  EXPECT_EQ(outcome.reason, "HTTP 400");

  outcome = classify(502, "<html>Bad Gateway</html>");
  EXPECT_EQ(outcome.kind, OutcomeKind::retry);
  EXPECT_EQ(outcome.reason, "HTTP 502");

  EXPECT_EQ(classify(401, "").kind, OutcomeKind::credentials_error);
  EXPECT_EQ(classify(403, "").kind, OutcomeKind::credentials_error);
  EXPECT_EQ(classify(404, "").kind, OutcomeKind::credentials_error);
  EXPECT_EQ(classify(429, "").kind, OutcomeKind::retry);
  EXPECT_EQ(classify(413, "").kind, OutcomeKind::rejected);
  EXPECT_EQ(classify(413, "").reason, "HTTP 413");
  EXPECT_EQ(classify(302, "").kind, OutcomeKind::rejected);
}

TEST(FcmReason, DescribeKeepsTheMessageForLogs) {
  EXPECT_EQ(describe_fcm_error(404, body(404, "NOT_FOUND", "UNREGISTERED", "Requested entity was not found.")),
            "404 UNREGISTERED: Requested entity was not found.");
  EXPECT_EQ(describe_fcm_error(502, "<html>\n</html>"), "502 (no FCM error code): <html>?</html>");
  const std::string long_message(500, 'm');
  EXPECT_LT(describe_fcm_error(400, body(400, "INVALID_ARGUMENT", "", long_message)).size(), 240u);
}

}  // namespace
}  // namespace pushgw::fcm
