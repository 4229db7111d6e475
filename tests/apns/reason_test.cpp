#include "pushgw/apns/reason.hpp"

#include <boost/system/errc.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "pushgw/h2/error.hpp"

namespace pushgw::apns {
namespace {

using job::OutcomeKind;
using std::chrono::seconds;
using ::testing::HasSubstr;

struct Case {
  int status;
  const char* reason;
  OutcomeKind kind;
};

// Every status/reason pair in Apple's "Handling notification responses from APNs".
const Case kAppleReasons[] = {
    {400, "BadCollapseId", OutcomeKind::rejected},
    {400, "BadDeviceToken", OutcomeKind::token_dead},
    {400, "BadExpirationDate", OutcomeKind::rejected},
    {400, "BadMessageId", OutcomeKind::rejected},
    {400, "BadPriority", OutcomeKind::rejected},
    {400, "BadTopic", OutcomeKind::credentials_error},
    {400, "DeviceTokenNotForTopic", OutcomeKind::token_dead},
    {400, "DuplicateHeaders", OutcomeKind::rejected},
    {400, "IdleTimeout", OutcomeKind::retry},
    {400, "InvalidPushType", OutcomeKind::rejected},
    {400, "MissingDeviceToken", OutcomeKind::rejected},
    {400, "MissingTopic", OutcomeKind::credentials_error},
    {400, "PayloadEmpty", OutcomeKind::rejected},
    {400, "TopicDisallowed", OutcomeKind::credentials_error},
    {403, "BadCertificate", OutcomeKind::credentials_error},
    {403, "BadCertificateEnvironment", OutcomeKind::credentials_error},
    {403, "ExpiredProviderToken", OutcomeKind::retry},
    {403, "Forbidden", OutcomeKind::credentials_error},
    {403, "InvalidProviderToken", OutcomeKind::credentials_error},
    {403, "MissingProviderToken", OutcomeKind::credentials_error},
    {403, "UnrelatedKeyIdInToken", OutcomeKind::credentials_error},
    {403, "BadEnvironmentKeyIdInToken", OutcomeKind::credentials_error},
    {404, "BadPath", OutcomeKind::credentials_error},
    {405, "MethodNotAllowed", OutcomeKind::credentials_error},
    {410, "ExpiredToken", OutcomeKind::token_dead},
    {410, "Unregistered", OutcomeKind::token_dead},
    {413, "PayloadTooLarge", OutcomeKind::rejected},
    {429, "TooManyProviderTokenUpdates", OutcomeKind::credentials_error},
    {429, "TooManyRequests", OutcomeKind::retry},
    {500, "InternalServerError", OutcomeKind::retry},
    {503, "ServiceUnavailable", OutcomeKind::retry},
    {503, "Shutdown", OutcomeKind::retry},
};

std::string body(const char* reason) { return std::string("{\"reason\":\"") + reason + "\"}"; }

TEST(ClassifyApnsResponse, OkIsDelivered) {
  const auto outcome = classify_apns_response(200, "", std::nullopt);
  EXPECT_EQ(outcome.kind, OutcomeKind::delivered);
  EXPECT_EQ(outcome.status, 200);
  EXPECT_EQ(outcome.reason, "");
}

TEST(ClassifyApnsResponse, EveryAppleReasonMapsToItsOutcome) {
  for (const auto& c : kAppleReasons) {
    const auto outcome = classify_apns_response(c.status, body(c.reason), std::nullopt);
    EXPECT_EQ(outcome.kind, c.kind) << c.status << " " << c.reason;
    EXPECT_EQ(outcome.status, c.status) << c.reason;
    EXPECT_EQ(outcome.reason, c.reason);
    EXPECT_EQ(outcome.retry_after, std::nullopt) << c.reason;
  }
}

TEST(ClassifyApnsResponse, TopicErrorsAreTheNotificationsWhenItChoseTheTopic) {
  const ResponseContext own_topic{.topic_from_notification = true, .now = std::nullopt};
  EXPECT_EQ(classify_apns_response(400, body("BadTopic"), std::nullopt, own_topic).kind, OutcomeKind::rejected);
  EXPECT_EQ(classify_apns_response(400, body("TopicDisallowed"), std::nullopt, own_topic).kind,
            OutcomeKind::rejected);
  // The token may be fine for the app's own topic: do not mark it dead.
  EXPECT_EQ(classify_apns_response(400, body("DeviceTokenNotForTopic"), std::nullopt, own_topic).kind,
            OutcomeKind::rejected);
  // Not topic-related: unchanged.
  EXPECT_EQ(classify_apns_response(400, body("BadDeviceToken"), std::nullopt, own_topic).kind,
            OutcomeKind::token_dead);
  EXPECT_EQ(classify_apns_response(400, body("MissingTopic"), std::nullopt, own_topic).kind,
            OutcomeKind::credentials_error);
}

TEST(ClassifyApnsResponse, GoneCarriesTheTimestamp) {
  auto outcome = classify_apns_response(410, R"({"reason":"Unregistered","timestamp":1700000000123})", std::nullopt);
  EXPECT_EQ(outcome.kind, OutcomeKind::token_dead);
  EXPECT_EQ(outcome.token_invalid_since_ms, 1700000000123);

  outcome = classify_apns_response(410, R"({"reason":"ExpiredToken","timestamp":"1700000000456"})", std::nullopt);
  EXPECT_EQ(outcome.token_invalid_since_ms, 1700000000456);

  outcome = classify_apns_response(410, R"({"reason":"Unregistered"})", std::nullopt);
  EXPECT_EQ(outcome.token_invalid_since_ms, std::nullopt);

  outcome = classify_apns_response(410, R"({"reason":"Unregistered","timestamp":"yesterday"})", std::nullopt);
  EXPECT_EQ(outcome.kind, OutcomeKind::token_dead);
  EXPECT_EQ(outcome.token_invalid_since_ms, std::nullopt);
}

// Found by fuzz/provider_response: a float timestamp beyond int64 was cast anyway (UBSan:
// "outside the range of representable values").
TEST(ClassifyApnsResponse, AFloatTimestampOutOfRangeIsNoTimestamp) {
  auto outcome = classify_apns_response(410, R"({"reason":"Unregistered","timestamp":175555555555555555500000000000})",
                                        std::nullopt);
  EXPECT_EQ(outcome.kind, OutcomeKind::token_dead);
  EXPECT_EQ(outcome.token_invalid_since_ms, std::nullopt);
  outcome = classify_apns_response(410, R"({"reason":"Unregistered","timestamp":-1e300})", std::nullopt);
  EXPECT_EQ(outcome.token_invalid_since_ms, std::nullopt);
  outcome = classify_apns_response(410, R"({"reason":"Unregistered","timestamp":1700000000123.0})", std::nullopt);
  EXPECT_EQ(outcome.token_invalid_since_ms, 1700000000123);
}

TEST(ClassifyApnsResponse, RetryAfterIsHonouredOnRetries) {
  auto outcome = classify_apns_response(429, body("TooManyRequests"), "120");
  EXPECT_EQ(outcome.kind, OutcomeKind::retry);
  EXPECT_EQ(outcome.retry_after, seconds(120));

  const ResponseContext at{.topic_from_notification = false,
                           .now = std::chrono::sys_days(std::chrono::year(2015) / 10 / 21) + std::chrono::hours(7)};
  outcome = classify_apns_response(503, body("ServiceUnavailable"), "Wed, 21 Oct 2015 07:28:00 GMT", at);
  EXPECT_EQ(outcome.retry_after, seconds(28 * 60));

  outcome = classify_apns_response(503, body("Shutdown"), "soon");
  EXPECT_EQ(outcome.kind, OutcomeKind::retry);
  EXPECT_EQ(outcome.retry_after, std::nullopt);  // unparsable header: the caller's backoff applies

  // Only a retry outcome carries it.
  outcome = classify_apns_response(400, body("BadPriority"), "120");
  EXPECT_EQ(outcome.retry_after, std::nullopt);
}

TEST(ClassifyApnsResponse, UnknownReasonFallsBackToTheStatus) {
  EXPECT_EQ(classify_apns_response(400, body("SomethingNew"), std::nullopt).kind, OutcomeKind::rejected);
  EXPECT_EQ(classify_apns_response(403, body("SomethingNew"), std::nullopt).kind, OutcomeKind::credentials_error);
  EXPECT_EQ(classify_apns_response(410, body("SomethingNew"), std::nullopt).kind, OutcomeKind::token_dead);
  EXPECT_EQ(classify_apns_response(413, body("SomethingNew"), std::nullopt).kind, OutcomeKind::rejected);
  EXPECT_EQ(classify_apns_response(429, body("SomethingNew"), std::nullopt).kind, OutcomeKind::retry);
  EXPECT_EQ(classify_apns_response(502, body("SomethingNew"), std::nullopt).kind, OutcomeKind::retry);
  const auto outcome = classify_apns_response(400, body("SomethingNew"), std::nullopt);
  EXPECT_EQ(outcome.reason, "SomethingNew");
}

TEST(ClassifyApnsResponse, UnexpectedStatusIsRejectedAndSaysSo) {
  const auto outcome = classify_apns_response(401, body("Nope"), std::nullopt);
  EXPECT_EQ(outcome.kind, OutcomeKind::rejected);
  EXPECT_EQ(outcome.reason, "unexpected HTTP status 401: Nope");
}

TEST(ClassifyApnsResponse, UnparsableBodyIsClassifiedByStatus) {
  auto outcome = classify_apns_response(502, "<html><body>Bad Gateway</body></html>", std::nullopt);
  EXPECT_EQ(outcome.kind, OutcomeKind::retry);
  EXPECT_EQ(outcome.status, 502);
  EXPECT_THAT(outcome.reason, HasSubstr("unparsable response body: "));
  EXPECT_THAT(outcome.reason, HasSubstr("<html><body>Bad Gateway"));

  outcome = classify_apns_response(403, "", std::nullopt);
  EXPECT_EQ(outcome.kind, OutcomeKind::credentials_error);
  EXPECT_THAT(outcome.reason, HasSubstr("unparsable response body: empty"));

  outcome = classify_apns_response(410, R"({"reason": 42})", std::nullopt);
  EXPECT_EQ(outcome.kind, OutcomeKind::token_dead);
  EXPECT_THAT(outcome.reason, HasSubstr("unparsable response body: no \"reason\""));

  outcome = classify_apns_response(400, "[\"reason\"]", std::nullopt);
  EXPECT_EQ(outcome.kind, OutcomeKind::rejected);

  // Binary garbage is not copied into the reason as is.
  outcome = classify_apns_response(500, std::string("\x01\xff{", 3), std::nullopt);
  EXPECT_EQ(outcome.kind, OutcomeKind::retry);
  EXPECT_THAT(outcome.reason, HasSubstr("??{"));

  // A long body is cut.
  outcome = classify_apns_response(400, std::string(10000, 'x'), std::nullopt);
  EXPECT_LT(outcome.reason.size(), 200u);
}

}  // namespace
}  // namespace pushgw::apns
