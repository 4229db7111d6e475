#include "pushgw/api/push_request.hpp"

#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "job/fixtures.hpp"
#include "pushgw/apns/payload.hpp"
#include "pushgw/fcm/message.hpp"
#include "pushgw/job/codec.hpp"

namespace pushgw::api {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
using pushgw::testing::demo_context;
using pushgw::testing::fcm_token;
using pushgw::testing::ios_token;

json ios_json(std::size_t first_token = 1, std::size_t count = 1) {
  json tokens = json::array();
  for (std::size_t i = 0; i < count; ++i) tokens.push_back(ios_token(first_token + i));
  return {{"platform", "ios"}, {"tokens", tokens}, {"title", "hi"}};
}

json android_json() { return {{"platform", 2}, {"tokens", {fcm_token(1), fcm_token(2)}}}; }

std::string body_of(std::vector<json> notifications) {
  return json{{"notifications", notifications}}.dump();
}

ParsedPush parse_ok(const std::string& body, const job::ValidationContext& ctx = demo_context()) {
  auto r = parse_push_request(body, ctx);
  if (auto* e = std::get_if<ApiError>(&r)) {
    ADD_FAILURE() << e->path << ": " << e->error;
    return {};
  }
  return std::get<ParsedPush>(r);
}

ApiError parse_error(const std::string& body, const job::ValidationContext& ctx = demo_context()) {
  auto r = parse_push_request(body, ctx);
  EXPECT_TRUE(std::holds_alternative<ApiError>(r)) << "accepted: " << body.substr(0, 200);
  return std::holds_alternative<ApiError>(r) ? std::get<ApiError>(r) : ApiError{};
}

// Counts up: "job-0", "job-1", ...
job::JobIdSource counter() {
  return [next = 0]() mutable { return "job-" + std::to_string(next++); };
}

TEST(PushRequest, ParsesValidRequestsAndFillsInTheApp) {
  const auto push = parse_ok(body_of({ios_json(1, 2), android_json()}));
  ASSERT_EQ(push.notifications.size(), 2u);
  EXPECT_EQ(push.token_count, 4u);
  EXPECT_EQ(push.notifications[0].platform, job::Platform::ios);
  EXPECT_EQ(push.notifications[0].title, "hi");
  EXPECT_EQ(push.notifications[0].app, "demo");
  EXPECT_EQ(push.notifications[1].platform, job::Platform::android);
  EXPECT_EQ(push.notifications[1].app, "demo");
}

TEST(PushRequest, BodyShapeErrors) {
  auto e = parse_error("{\"notifications\": [");
  EXPECT_EQ(e.status, 400);
  EXPECT_EQ(e.path, "");
  EXPECT_THAT(e.error, HasSubstr("invalid JSON at byte"));

  EXPECT_EQ(parse_error("[]"), (ApiError{400, "request body must be a JSON object", ""}));
  EXPECT_EQ(parse_error("{}"), (ApiError{400, "is required", "notifications"}));
  EXPECT_EQ(parse_error(R"({"notifications": {}})"), (ApiError{400, "must be an array", "notifications"}));
  EXPECT_EQ(parse_error(R"({"notifications": []})"), (ApiError{400, "must not be empty", "notifications"}));
  e = parse_error(body_of({ios_json(1), ios_json(2), ios_json(3), ios_json(4)}));
  EXPECT_EQ(e.path, "notifications");
  EXPECT_EQ(e.error, "has 4 notifications; the limit is 3 per request");

  auto j = json::parse(body_of({ios_json()}));
  j["notification"] = 1;
  e = parse_error(j.dump());
  EXPECT_EQ(e.path, "notification");
  EXPECT_THAT(e.error, HasSubstr("unknown field"));
}

TEST(PushRequest, ErrorsNameTheNotificationAndField) {
  auto bad = ios_json(5);
  bad["tokens"][0] = "not-hex";
  auto e = parse_error(body_of({ios_json(1), bad}));
  EXPECT_EQ(e.path, "notifications[1].tokens[0]");
  EXPECT_THAT(e.error, HasSubstr("APNs device token"));

  bad = ios_json(5);
  bad["titel"] = "x";
  e = parse_error(body_of({ios_json(1), ios_json(2), bad}));
  EXPECT_EQ(e.path, "notifications[2].titel");
  EXPECT_THAT(e.error, HasSubstr("did you mean \"title\""));

  bad = ios_json(5);
  bad["app"] = "nope";
  EXPECT_EQ(parse_error(body_of({bad})).path, "notifications[0].app");
}

TEST(PushRequest, ProducersCannotSetJobMeta) {
  auto j = ios_json();
  j["job"] = {{"id", "mine"}};
  const auto e = parse_error(body_of({j}));
  EXPECT_EQ(e.path, "notifications[0].job");
  EXPECT_THAT(e.error, HasSubstr("is set by pushgw"));
}

// A body whose one iOS notification has an APNs payload of exactly `size` bytes.
std::string ios_body_with_payload_size(std::size_t size, const char* push_type = nullptr) {
  auto j = ios_json();
  j.erase("title");
  if (push_type) j["push_type"] = push_type;
  j["data"] = {{"pad", ""}};
  auto decoded = job::decode_notification(j, "");
  const auto base = apns::build_apns_payload(std::get<job::Notification>(decoded)).size();
  j["data"]["pad"] = std::string(size - base, 'p');
  return body_of({j});
}

TEST(PushRequest, ApnsPayloadSizeLimit) {
  parse_ok(ios_body_with_payload_size(4096));
  auto e = parse_error(ios_body_with_payload_size(4097));
  EXPECT_EQ(e.path, "notifications[0]");
  EXPECT_EQ(e.error, "APNs payload is 4097 bytes, over the limit of 4096 bytes for push type alert");

  parse_ok(ios_body_with_payload_size(5120, "voip"));
  e = parse_error(ios_body_with_payload_size(5121, "voip"));
  EXPECT_THAT(e.error, HasSubstr("5121 bytes, over the limit of 5120"));
}

// Issue 13, class 9: the FCM limit is checked at intake as the APNs one is.
TEST(PushRequest, FcmPayloadSizeLimit) {
  auto j = android_json();
  j["data"] = {{"pad", ""}};
  auto n = std::get<job::Notification>(job::decode_notification(j, ""));
  const auto base = fcm::fcm_payload_size(fcm::build_fcm_message(n, "", 0));
  j["data"]["pad"] = std::string(fcm::kFcmPayloadLimit - base, 'p');
  parse_ok(body_of({j}));
  j["data"]["pad"] = std::string(fcm::kFcmPayloadLimit - base + 1, 'p');
  auto e = parse_error(body_of({j}));
  EXPECT_EQ(e.path, "notifications[0]");
  EXPECT_EQ(e.error, "FCM payload (notification and data) is 4097 bytes, over the limit of 4096 bytes");
  // A 900 KB title, as the probe sent.
  j = android_json();
  j["title"] = std::string(900 * 1024, 't');
  EXPECT_THAT(parse_error(body_of({j})).error, HasSubstr("over the limit of 4096 bytes"));
}

TEST(PushRequest, TopicMessagesHaveFcmsSmallerLimit) {
  json j = {{"platform", "android"}, {"fcm_topic", "news"}, {"data", {{"pad", ""}}}};
  auto n = std::get<job::Notification>(job::decode_notification(j, ""));
  const auto base = fcm::fcm_payload_size(fcm::build_fcm_message(n, "news", 0));
  j["data"]["pad"] = std::string(fcm::kFcmTopicPayloadLimit - base, 'p');
  EXPECT_EQ(parse_ok(body_of({j})).token_count, 1u);
  j["data"]["pad"] = std::string(fcm::kFcmTopicPayloadLimit - base + 1, 'p');
  EXPECT_EQ(parse_error(body_of({j})).error,
            "FCM payload (notification and data) is 2049 bytes, over the limit of 2048 bytes for topic messages");
  j.erase("fcm_topic");
  j["condition"] = "'a' in topics && 'b' in topics";
  EXPECT_THAT(parse_error(body_of({j})).error, HasSubstr("2048 bytes for topic messages"));
  j["condition"] = "'a' in topics && 'b' in topics &&";
  EXPECT_EQ(parse_error(body_of({j})).path, "notifications[0].condition");
}

// Issue 13, class 2: bodies nlohmann would throw on are 400s with a short message.
TEST(PushRequest, InvalidUtf8AndNumberOverflowAre400WithABoundedMessage) {
  const std::string token = ios_token(1);
  for (const std::string& body : std::vector<std::string>{
           R"({"notifications":[{"platform":"ios","tokens":[")" + token + R"("],"title":"a)" + std::string("\xff") + R"("}]})",
           R"({"notifications":[{"platform":"ios","tokens":[")" + token + R"("],"badge":1e400}]})",
           R"({"notifications":[{"platform":"ios","tokens":[")" + token + R"("],"badge":)" + std::string(100000, '1') +
               R"(e99999}]})"}) {
    const ApiError e = parse_error(body);
    EXPECT_EQ(e.status, 400);
    EXPECT_LT(e.error.size(), 400u) << e.error.substr(0, 400);
    EXPECT_NO_THROW((void)e.to_json().dump()) << e.error;
  }
}

TEST(PushRequest, ErrorJson) {
  EXPECT_EQ((ApiError{400, "must not be empty", "notifications"}.to_json()),
            (json{{"error", "must not be empty"}, {"path", "notifications"}}));
  EXPECT_EQ((ApiError{400, "request body must be a JSON object", ""}.to_json()),
            (json{{"error", "request body must be a JSON object"}}));
}

TEST(PushRequest, MakeJobsSplitsEveryNotification) {
  auto ctx = demo_context();
  ctx.limits.max_tokens_per_notification = 2000;
  const auto push = parse_ok(body_of({ios_json(1, 1201), android_json()}), ctx);
  const auto jobs = make_jobs(push, 500, counter(), 777);
  ASSERT_EQ(jobs.size(), 4u);
  std::vector<std::size_t> sizes;
  for (const auto& j : jobs) {
    sizes.push_back(j.tokens.size());
    EXPECT_EQ(j.app, "demo");
    EXPECT_EQ(j.job->enqueued_ms, 777);
  }
  EXPECT_EQ(sizes, (std::vector<std::size_t>{500, 500, 201, 2}));
  EXPECT_EQ(jobs[3].platform, job::Platform::android);

  EXPECT_EQ(accepted_response(push, jobs),
            (json{{"accepted", {{"notifications", 2}, {"tokens", 1203}, {"jobs", 4}}},
                  {"job_ids", {"job-0", "job-1", "job-2", "job-3"}}}));
}

}  // namespace
}  // namespace pushgw::api
