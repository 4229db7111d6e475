#include "pushgw/api/gorush.hpp"

#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "job/fixtures.hpp"

namespace pushgw::api {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
using pushgw::testing::demo_context;
using pushgw::testing::fcm_token;
using pushgw::testing::ios_token;

json gorush_ios() { return {{"platform", 1}, {"tokens", {ios_token(1)}}, {"message", "hi"}}; }
json gorush_android() { return {{"platform", 2}, {"tokens", {fcm_token(1)}}, {"message", "hi"}}; }

std::string body_of(std::vector<json> notifications) {
  return json{{"notifications", notifications}}.dump();
}

job::Notification map_ok(const json& g) {
  auto r = parse_gorush_request(body_of({g}), demo_context());
  if (auto* e = std::get_if<ApiError>(&r)) {
    ADD_FAILURE() << e->path << ": " << e->error;
    return {};
  }
  return std::get<ParsedPush>(r).notifications.at(0);
}

ApiError map_error(const json& g) {
  auto r = parse_gorush_request(body_of({g}), demo_context());
  EXPECT_TRUE(std::holds_alternative<ApiError>(r)) << "accepted: " << g.dump();
  return std::holds_alternative<ApiError>(r) ? std::get<ApiError>(r) : ApiError{};
}

TEST(Gorush, MapsTheCommonAndIosFields) {
  auto g = gorush_ios();
  g["tokens"] = {ios_token(1), ios_token(2)};
  g["title"] = "Title";
  g["badge"] = 0;
  g["sound"] = "ping.caf";
  g["category"] = "CAT";
  g["thread-id"] = "th";
  g["topic"] = "com.example.app";
  g["data"] = {{"k", "v"}};
  g["priority"] = "normal";
  g["content_available"] = true;
  g["mutable_content"] = true;
  g["collapse_id"] = "c";
  g["push_type"] = "alert";
  g["expiration"] = 1700000000;
  g["image"] = "https://example.com/i.png";
  g["notif_id"] = "n-1";
  const auto n = map_ok(g);
  EXPECT_EQ(n.platform, job::Platform::ios);
  EXPECT_EQ(n.tokens, (std::vector<std::string>{ios_token(1), ios_token(2)}));
  EXPECT_EQ(n.app, "demo");
  EXPECT_EQ(n.message, "hi");
  EXPECT_EQ(n.title, "Title");
  EXPECT_EQ(n.badge, 0);
  EXPECT_EQ(n.sound, "ping.caf");
  EXPECT_EQ(n.category, "CAT");
  EXPECT_EQ(n.thread_id, "th");
  EXPECT_EQ(n.topic, "com.example.app");
  EXPECT_EQ(n.data, (json{{"k", "v"}}));
  EXPECT_EQ(n.priority, job::Priority::normal);
  EXPECT_EQ(n.content_available, true);
  EXPECT_EQ(n.mutable_content, true);
  EXPECT_EQ(n.collapse_id, "c");
  EXPECT_EQ(n.push_type, "alert");
  EXPECT_EQ(n.expiration, 1700000000);
  EXPECT_EQ(n.image, "https://example.com/i.png");
  EXPECT_EQ(n.id, "n-1");
  EXPECT_FALSE(n.apns);
  EXPECT_FALSE(n.fcm);
}

TEST(Gorush, IosExtrasGoToTheApsDictionary) {
  auto g = gorush_ios();
  g["alert"] = {{"subtitle", "sub"}, {"loc-key", "K"}, {"title", ""}, {"summary-arg-count", 0}};
  g["url-args"] = {"a", "b"};
  g["interruption_level"] = "time-sensitive";
  g["sound"] = {{"critical", 1}, {"name", "alarm.caf"}};
  g["volume"] = 0.5;
  const auto n = map_ok(g);
  ASSERT_TRUE(n.apns);
  EXPECT_EQ(*n.apns, (json{{"payload",
                           {{"aps",
                             {{"alert", {{"subtitle", "sub"}, {"loc-key", "K"}}},
                              {"url-args", {"a", "b"}},
                              {"interruption-level", "time-sensitive"},
                              {"sound", {{"critical", 1}, {"name", "alarm.caf"}, {"volume", 0.5}}}}}}}}));
  EXPECT_FALSE(n.sound);
}

TEST(Gorush, SoundNameTurnsAStringSoundIntoADictionary) {
  auto g = gorush_ios();
  g["sound"] = "a.caf";
  g["volume"] = 0.8;
  auto n = map_ok(g);
  EXPECT_FALSE(n.sound);
  EXPECT_EQ(n.apns->at("payload").at("aps").at("sound"), (json{{"name", "a.caf"}, {"volume", 0.8}}));
  g["name"] = "b.caf";
  n = map_ok(g);
  EXPECT_EQ(n.apns->at("payload").at("aps").at("sound"), (json{{"name", "b.caf"}, {"volume", 0.8}}));
}

TEST(Gorush, MapsTheAndroidFieldsToTheFcmMessage) {
  auto g = gorush_android();
  g["collapse_key"] = "ck";
  g["time_to_live"] = 60;
  g["restricted_package_name"] = "com.example";
  g["notification"] = {{"title", "T"}, {"android_channel_id", "chan"}, {"badge", "3"},
                       {"icon", ""}, {"click_action", "OPEN"}};
  g["android"] = {{"priority", "high"}, {"notification", {{"color", "#ff0000"}}}};
  g["webpush"] = {{"headers", {{"Urgency", "high"}}}};
  g["fcm_options"] = {{"analytics_label", "l"}};
  g["apns"] = {{"headers", {{"apns-priority", "5"}}}};
  const auto n = map_ok(g);
  EXPECT_EQ(n.platform, job::Platform::android);
  EXPECT_EQ(n.collapse_id, "ck");
  ASSERT_TRUE(n.fcm);
  EXPECT_EQ(*n.fcm,
            (json{{"android",
                   {{"ttl", "60s"},
                    {"restricted_package_name", "com.example"},
                    {"priority", "high"},
                    {"notification",
                     {{"title", "T"}, {"channel_id", "chan"}, {"notification_count", 3},
                      {"click_action", "OPEN"}, {"color", "#ff0000"}}}}},
                  {"webpush", {{"headers", {{"Urgency", "high"}}}}},
                  {"fcm_options", {{"analytics_label", "l"}}},
                  {"apns", {{"headers", {{"apns-priority", "5"}}}}}}));
  EXPECT_FALSE(n.apns) << "gorush's `apns` is FCM's APNs config";
}

TEST(Gorush, EmptyValuesMeanNotSet) {
  auto g = gorush_ios();
  g["title"] = "";
  g["content_available"] = false;
  g["data"] = json::object();
  g["badge"] = -1;
  g["priority"] = "";
  g["sound"] = nullptr;
  const auto n = map_ok(g);
  EXPECT_FALSE(n.title);
  EXPECT_FALSE(n.content_available);
  EXPECT_FALSE(n.data);
  EXPECT_FALSE(n.badge);
  EXPECT_FALSE(n.priority);
  EXPECT_FALSE(n.sound);
}

TEST(Gorush, IgnoresWhatItCannotHonourButChangesNothing) {
  auto g = gorush_ios();
  g["retry"] = 3;
  g["apns_id"] = "9b6d4f2e-0000-0000-0000-000000000000";
  g["huawei_data"] = "x";
  g["bi_tag"] = "x";
  g["time_to_live"] = 10;  // Android only
  g["notification"] = {{"title", "x"}};
  g["production"] = false;
  auto n = map_ok(g);
  EXPECT_EQ(n, map_ok(gorush_ios()));

  auto a = gorush_android();
  a["alert"] = {{"title", "x"}};  // iOS only
  a["production"] = true;
  a["url-args"] = {"x"};
  EXPECT_EQ(map_ok(a), map_ok(gorush_android()));
}

TEST(Gorush, LegacyToIsAppendedToTokens) {
  auto g = gorush_android();
  g["to"] = fcm_token(9);
  EXPECT_EQ(map_ok(g).tokens, (std::vector<std::string>{fcm_token(1), fcm_token(9)}));
  g.erase("tokens");
  EXPECT_EQ(map_ok(g).tokens, (std::vector<std::string>{fcm_token(9)}));
  g["to"] = "bad token";
  EXPECT_EQ(map_error(g).path, "notifications[0].to");
}

// gorush's topic messages: legacy `to: "/topics/x"`, and `topic` / `condition` of FCM v1.
TEST(Gorush, TopicsAndConditionsBecomeFcmTargets) {
  json g = {{"platform", 2}, {"to", "/topics/foo-bar"}, {"message", "Topic message"}};
  auto n = map_ok(g);
  EXPECT_EQ(n.target, job::Target::fcm_topic);
  EXPECT_EQ(n.tokens, std::vector<std::string>{"foo-bar"});
  g = {{"platform", 2}, {"topic", "news"}, {"tokens", json::array()}, {"message", "m"}};
  EXPECT_EQ(map_ok(g).tokens, std::vector<std::string>{"news"});
  g = {{"platform", 2}, {"condition", "'a' in topics || 'b' in topics"}, {"message", "m"}};
  n = map_ok(g);
  EXPECT_EQ(n.target, job::Target::fcm_condition);
  EXPECT_EQ(n.tokens, std::vector<std::string>{"'a' in topics || 'b' in topics"});

  // Errors found later name gorush's fields.
  g = {{"platform", 2}, {"to", "/topics/caf\xc3\xa9"}, {"message", "m"}};
  EXPECT_EQ(map_error(g).path, "notifications[0].to");
  g = {{"platform", 2}, {"condition", "'a' in topics &&"}, {"message", "m"}};
  EXPECT_EQ(map_error(g).path, "notifications[0].condition");
  // On iOS, topic is still the apns-topic, and condition is Android's.
  auto ios = gorush_ios();
  ios["topic"] = "com.example.app";
  ios["condition"] = "'a' in topics";
  n = map_ok(ios);
  EXPECT_EQ(n.target, job::Target::tokens);
  EXPECT_EQ(n.topic, "com.example.app");
}

TEST(Gorush, RejectsWhatPushgwDoesNotSupport) {
  struct Case {
    json notification;
    std::string path;
    std::string message;
  };
  auto with = [](json base, const std::string& key, json value) {
    base[key] = std::move(value);
    return base;
  };
  const std::vector<Case> cases = {
      {with(gorush_ios(), "platform", 3), "platform", "Huawei (platform 3) is not supported"},
      {with(gorush_ios(), "platform", 4), "platform", "must be 1 (ios) or 2 (android)"},
      {with(gorush_android(), "topic", "news"), "topic", "cannot be combined with tokens"},
      {with(with(gorush_android(), "to", "/topics/news"), "topic", "sport"), "topic", "keep one"},
      {with(gorush_android(), "api_key", "AAAA"), "api_key", "per-request FCM keys"},
      {with(gorush_android(), "dry_run", true), "dry_run", "not supported"},
      {with(gorush_ios(), "production", true), "production", "APNs environments"},
      {with(gorush_ios(), "development", true), "development", "APNs environments"},
      {with(gorush_ios(), "titel", "x"), "titel", R"(unknown field "titel" (did you mean "title"?))"},
      {with(gorush_ios(), "content-state", json::object()), "content-state", "unknown field"},
      {with(gorush_ios(), "alert", {{"subtitel", "x"}}), "alert.subtitel", R"(did you mean "subtitle"?)"},
      {with(gorush_ios(), "alert", "x"), "alert", "must be an object"},
      {with(gorush_android(), "notification", {{"colour", "x"}}), "notification.colour", "did you mean \"color\""},
      {with(gorush_android(), "notification", {{"badge", "three"}}), "notification.badge", "digits"},
      {with(gorush_android(), "time_to_live", 2419201), "time_to_live", "2419200 (4 weeks)"},
      {with(gorush_android(), "sound", {{"name", "x"}}), "sound", "must be a string"},
      {with(gorush_android(), "android", "x"), "android", "must be an object"},
      {with(gorush_ios(), "url-args", {1}), "url-args", "array of strings"},
      {with(with(gorush_ios(), "thread-id", "a"), "thread_id", "b"), "thread_id", "keep one"},
  };
  for (const auto& c : cases) {
    const auto e = map_error(c.notification);
    EXPECT_EQ(e.status, 400);
    EXPECT_EQ(e.path, "notifications[0]." + c.path) << c.notification.dump();
    EXPECT_THAT(e.error, HasSubstr(c.message)) << c.notification.dump();
  }
}

TEST(Gorush, LaterErrorsUseGorushFieldNames) {
  auto g = gorush_ios();
  g["thread-id"] = 5;
  EXPECT_EQ(map_error(g).path, "notifications[0].thread-id");
  g = gorush_ios();
  g["notif_id"] = std::string(300, 'x');
  EXPECT_EQ(map_error(g).path, "notifications[0].notif_id");
  g = gorush_android();
  g["collapse_key"] = std::string(65, 'c');
  EXPECT_EQ(map_error(g).path, "notifications[0].collapse_key");
  g = gorush_ios();
  g["tokens"] = {"zz"};
  EXPECT_EQ(map_error(g).path, "notifications[0].tokens[0]");
  g = gorush_ios();
  g.erase("platform");
  EXPECT_EQ(map_error(g), (ApiError{400, "is required", "notifications[0].platform"}));
  g = gorush_ios();
  g.erase("tokens");
  EXPECT_EQ(map_error(g), (ApiError{400, "is required", "notifications[0].tokens"}));
  g["tokens"] = json::array();
  EXPECT_EQ(map_error(g), (ApiError{400, "must not be empty", "notifications[0].tokens"}));
}

TEST(Gorush, RequestShape) {
  const auto ctx = demo_context();
  auto r = parse_gorush_request("{}", ctx);
  EXPECT_EQ(std::get<ApiError>(r), (ApiError{400, "is required", "notifications"}));
  r = parse_gorush_request(R"({"notifications": []})", ctx);
  EXPECT_EQ(std::get<ApiError>(r).error, "must not be empty");
  r = parse_gorush_request("nope", ctx);
  EXPECT_THAT(std::get<ApiError>(r).error, HasSubstr("invalid JSON"));
  r = parse_gorush_request(body_of({gorush_ios(), gorush_ios(), gorush_ios(), gorush_ios()}), ctx);
  EXPECT_THAT(std::get<ApiError>(r).error, HasSubstr("limit is 3"));
}

TEST(Gorush, Responses) {
  auto g = gorush_ios();
  g["tokens"] = {ios_token(1), ios_token(2)};
  auto r = parse_gorush_request(body_of({g, gorush_android()}), demo_context());
  ASSERT_TRUE(std::holds_alternative<ParsedPush>(r));
  EXPECT_EQ(gorush_success_response(std::get<ParsedPush>(r)),
            (json{{"counts", 3}, {"logs", json::array()}, {"success", "ok"}}));
  EXPECT_EQ(gorush_error_response(ApiError{400, "is required", "notifications[0].platform"}),
            (json{{"code", 400}, {"message", "notifications[0].platform: is required"}}));
  EXPECT_EQ(gorush_error_response(ApiError{400, "request body must be a JSON object", ""}),
            (json{{"code", 400}, {"message", "request body must be a JSON object"}}));
}

}  // namespace
}  // namespace pushgw::api
