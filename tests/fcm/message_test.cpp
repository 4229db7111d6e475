// The FCM v1 request for one notification and one token: every mapped field, the data
// conversion, the ttl, the pass-through merge, and the request around the message.

#include "pushgw/fcm/message.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace pushgw::fcm {
namespace {

using nlohmann::json;

constexpr std::int64_t kNow = 1700000000;
constexpr const char* kToken = "fcm-token-1:APA91b";

job::Notification android() {
  job::Notification n;
  n.platform = job::Platform::android;
  n.tokens = {kToken};
  return n;
}

TEST(FcmMessage, OnlyTheTokenForAnEmptyNotification) {
  EXPECT_EQ(build_fcm_message(android(), kToken, kNow), (json{{"token", kToken}}));
}

TEST(FcmMessage, EveryField) {
  auto n = android();
  n.title = "Title";
  n.message = "Body";
  n.image = "https://example.com/a.png";
  n.sound = "default";
  n.category = "OPEN_CHAT";
  n.badge = 3;
  n.priority = job::Priority::high;
  n.collapse_id = "chat-42";
  n.expiration = kNow + 3600;
  n.data = json{{"chat", "42"}};
  const json expected = {
      {"token", kToken},
      {"notification", {{"title", "Title"}, {"body", "Body"}, {"image", "https://example.com/a.png"}}},
      {"data", {{"chat", "42"}}},
      {"android",
       {{"priority", "HIGH"},
        {"collapse_key", "chat-42"},
        {"ttl", "3600s"},
        {"notification",
         {{"sound", "default"}, {"click_action", "OPEN_CHAT"}, {"tag", "chat-42"}, {"notification_count", 3}}}}}};
  EXPECT_EQ(build_fcm_message(n, kToken, kNow), expected);
}

TEST(FcmMessage, NormalPriority) {
  auto n = android();
  n.priority = job::Priority::normal;
  EXPECT_EQ(build_fcm_message(n, kToken, kNow).at("android").at("priority"), "NORMAL");
}

TEST(FcmMessage, TtlIsRelativeToNowAndZeroOncePast) {
  auto n = android();
  n.expiration = kNow + 90;
  EXPECT_EQ(build_fcm_message(n, kToken, kNow).at("android").at("ttl"), "90s");
  n.expiration = kNow;
  EXPECT_EQ(build_fcm_message(n, kToken, kNow).at("android").at("ttl"), "0s");
  n.expiration = kNow - 5000;
  EXPECT_EQ(build_fcm_message(n, kToken, kNow).at("android").at("ttl"), "0s");
  n.expiration = 0;  // APNs' "do not store"
  EXPECT_EQ(build_fcm_message(n, kToken, kNow).at("android").at("ttl"), "0s");
}

TEST(FcmMessage, DataValuesBecomeStrings) {
  auto n = android();
  n.data = json{{"s", "text"}, {"i", 42}, {"f", 1.5}, {"b", true}, {"n", nullptr}, {"o", {{"k", json::array({1, 2})}}}};
  const json data = build_fcm_message(n, kToken, kNow).at("data");
  EXPECT_EQ(data, (json{{"s", "text"}, {"i", "42"}, {"f", "1.5"}, {"b", "true"}, {"n", "null"}, {"o", R"({"k":[1,2]})"}}));
}

TEST(FcmMessage, DataOnlyMessagesStayDataOnly) {
  // android.notification would make FCM show a notification instead of waking the app.
  auto n = android();
  n.data = json{{"k", "v"}};
  n.sound = "default";
  n.category = "X";
  n.badge = 1;
  n.collapse_id = "c";
  const json message = build_fcm_message(n, kToken, kNow);
  EXPECT_FALSE(message.contains("notification"));
  EXPECT_EQ(message.at("android"), (json{{"collapse_key", "c"}}));
  n.data = json::object();
  EXPECT_FALSE(build_fcm_message(n, kToken, kNow).contains("data"));  // an empty map is left out
}

TEST(FcmMessage, ImageAloneMakesADisplayNotification) {
  auto n = android();
  n.image = "https://example.com/a.png";
  n.sound = "ping";
  const json message = build_fcm_message(n, kToken, kNow);
  EXPECT_EQ(message.at("notification"), (json{{"image", "https://example.com/a.png"}}));
  EXPECT_EQ(message.at("android").at("notification"), (json{{"sound", "ping"}}));
}

TEST(FcmMessage, IosOnlyFieldsAreNotMapped) {
  auto n = android();
  n.thread_id = "t";
  n.push_type = "background";
  n.content_available = true;
  n.mutable_content = true;
  n.topic = "com.example.app";
  n.apns = json{{"headers", {{"apns-priority", "5"}}}};
  EXPECT_EQ(build_fcm_message(n, kToken, kNow), (json{{"token", kToken}}));
}

TEST(FcmMessage, PassThroughIsMergedOverTheBuiltMessage) {
  auto n = android();
  n.title = "Title";
  n.message = "Body";
  n.priority = job::Priority::normal;
  n.data = json{{"a", "1"}};
  n.fcm = json{{"android", {{"priority", "HIGH"}, {"restricted_package_name", "com.example"}}},
               {"notification", {{"body", nullptr}}},
               {"data", {{"b", 2}}},
               {"apns", {{"headers", {{"apns-priority", "10"}}}}},
               {"fcm_options", {{"analytics_label", "campaign"}}}};
  const json expected = {
      {"token", kToken},
      {"notification", {{"title", "Title"}}},
      {"data", {{"a", "1"}, {"b", "2"}}},  // merged, and stringified after the merge
      {"android", {{"priority", "HIGH"}, {"restricted_package_name", "com.example"}}},
      {"apns", {{"headers", {{"apns-priority", "10"}}}}},
      {"fcm_options", {{"analytics_label", "campaign"}}}};
  EXPECT_EQ(build_fcm_message(n, kToken, kNow), expected);
}

TEST(FcmMessage, PassThroughCanRemoveABuiltObject) {
  auto n = android();
  n.title = "Title";
  n.fcm = json{{"notification", nullptr}};
  EXPECT_EQ(build_fcm_message(n, kToken, kNow), (json{{"token", kToken}}));
}

TEST(FcmMessage, TheTokenIsAlwaysOurs) {
  auto n = android();
  n.fcm = json{{"token", "someone-else"}, {"topic", "news"}, {"condition", "'a' in topics"}};
  EXPECT_EQ(build_fcm_message(n, kToken, kNow), (json{{"token", kToken}}));
  n.fcm = json{{"token", nullptr}};
  EXPECT_EQ(build_fcm_message(n, kToken, kNow), (json{{"token", kToken}}));
}

TEST(FcmMessage, ATopicOrConditionIsTheTargetInsteadOfAToken) {
  job::Notification n;
  n.platform = job::Platform::android;
  n.title = "Breaking";
  n.target = job::Target::fcm_topic;
  n.fcm = json{{"token", "sneaky"}, {"condition", "'x' in topics"}};
  EXPECT_EQ(build_fcm_message(n, "news", 0),
            (json{{"notification", {{"title", "Breaking"}}}, {"topic", "news"}}));
  n.target = job::Target::fcm_condition;
  EXPECT_EQ(build_fcm_message(n, "'a' in topics", 0)["condition"], "'a' in topics");
  EXPECT_FALSE(build_fcm_message(n, "'a' in topics", 0).contains("token"));
  EXPECT_EQ(fcm_payload_limit(n), 2048u);
  n.target = job::Target::tokens;
  EXPECT_EQ(fcm_payload_limit(n), 4096u);
}

TEST(FcmMessage, NonObjectPassThroughIsIgnored) {
  auto n = android();
  n.fcm = json::array({1});
  EXPECT_EQ(build_fcm_message(n, kToken, kNow), (json{{"token", kToken}}));
}

TEST(FcmRequest, PathHeadersAndBody) {
  auto n = android();
  n.title = "Hi";
  const auto built = build_fcm_request(n, kToken, "my-project", "ya29.token", kNow);
  const auto* request = std::get_if<FcmRequest>(&built);
  ASSERT_NE(request, nullptr);
  EXPECT_EQ(request->path, "/v1/projects/my-project/messages:send");
  EXPECT_EQ(request->headers, (HeaderList{{"authorization", "Bearer ya29.token"}, {"content-type", "application/json"}}));
  EXPECT_EQ(json::parse(request->body),
            (json{{"message", {{"token", kToken}, {"notification", {{"title", "Hi"}}}}}}));
  EXPECT_EQ(fcm_send_path("p"), "/v1/projects/p/messages:send");
}

TEST(FcmRequest, EmptyTokenIsRejected) {
  const auto built = build_fcm_request(android(), "", "my-project", "ya29.token", kNow);
  const auto* outcome = std::get_if<job::SendOutcome>(&built);
  ASSERT_NE(outcome, nullptr);
  EXPECT_EQ(outcome->kind, job::OutcomeKind::rejected);
  EXPECT_EQ(outcome->reason, "MissingRegistration");
}

TEST(FcmRequest, InvalidUtf8IsReplacedNotThrown) {
  auto n = android();
  n.title = std::string("bad \xff byte");
  const auto built = build_fcm_request(n, kToken, "p", "t", kNow);
  const auto* request = std::get_if<FcmRequest>(&built);
  ASSERT_NE(request, nullptr);
  EXPECT_EQ(json::parse(request->body).at("message").at("notification").at("title"), "bad \xEF\xBF\xBD byte");
}

}  // namespace
}  // namespace pushgw::fcm
