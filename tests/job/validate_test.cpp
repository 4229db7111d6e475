#include "pushgw/job/validate.hpp"

#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "job/fixtures.hpp"

namespace pushgw::job {
namespace {

using ::testing::HasSubstr;
using pushgw::testing::demo_context;
using pushgw::testing::fcm_token;
using pushgw::testing::ios_token;

Notification ios(std::vector<std::string> tokens = {ios_token(1)}) {
  Notification n;
  n.platform = Platform::ios;
  n.tokens = std::move(tokens);
  return n;
}

Notification android(std::vector<std::string> tokens = {fcm_token(1)}) {
  Notification n;
  n.platform = Platform::android;
  n.tokens = std::move(tokens);
  return n;
}

FieldError error_of(const Notification& n, const ValidationContext& ctx = demo_context()) {
  auto e = validate_notification(n, ctx, "notifications[2]");
  EXPECT_TRUE(e.has_value()) << "validated without error";
  return e.value_or(FieldError{});
}

void expect_valid(const Notification& n, const ValidationContext& ctx = demo_context()) {
  auto e = validate_notification(n, ctx, "notifications[2]");
  EXPECT_FALSE(e.has_value()) << e->path << ": " << e->message;
}

TEST(Validate, AcceptsValidNotifications) {
  expect_valid(ios());
  expect_valid(android());
  expect_valid(pushgw::testing::full_notification());
}

TEST(Validate, TokensMustBeThereAndWithinTheLimit) {
  EXPECT_EQ(error_of(ios({})), (FieldError{"notifications[2].tokens", "must not be empty"}));
  std::vector<std::string> six;
  for (std::size_t i = 0; i < 6; ++i) six.push_back(ios_token(i));
  const auto e = error_of(ios(six));
  EXPECT_EQ(e.path, "notifications[2].tokens");
  EXPECT_EQ(e.message, "has 6 tokens; the limit is 5 per notification");
  six.pop_back();
  expect_valid(ios(six));
}

TEST(Validate, ApnsTokenFormat) {
  expect_valid(ios({std::string(64, 'a')}));
  expect_valid(ios({std::string(64, 'F')}));
  expect_valid(ios({std::string(66, '0')}));
  expect_valid(ios({std::string(200, 'b')}));
  for (const auto& bad : {std::string(62, 'a'), std::string(65, 'a'), std::string(202, 'a'),
                          std::string(63, 'a') + "g", std::string(), std::string(63, 'a') + " "}) {
    const auto e = error_of(ios({ios_token(1), bad}));
    EXPECT_EQ(e.path, "notifications[2].tokens[1]") << bad;
    EXPECT_THAT(e.message, HasSubstr("must be an APNs device token")) << bad;
  }
  EXPECT_THAT(error_of(ios({std::string(10, 'a') + "z" + std::string(53, 'a')})).message,
              HasSubstr("character 10 is not a hex digit"));
  EXPECT_THAT(error_of(ios({std::string(63, 'a')})).message, HasSubstr("got 63 characters"));
}

TEST(Validate, FcmTokenFormat) {
  expect_valid(android({"a"}));
  expect_valid(android({std::string(4096, 'x')}));
  expect_valid(android({"AZaz09_:-."}));
  for (const auto& bad : {std::string(), std::string(4097, 'x'), std::string("has space"),
                          std::string("slash/"), std::string("uml\xc3\xa4ut")}) {
    const auto e = error_of(android({fcm_token(1), bad}));
    EXPECT_EQ(e.path, "notifications[2].tokens[1]") << bad;
    EXPECT_THAT(e.message, HasSubstr("must be an FCM registration token")) << bad;
  }
}

TEST(Validate, DuplicateTokensNameTheSecond) {
  EXPECT_EQ(error_of(ios({ios_token(1), ios_token(2), ios_token(1)})),
            (FieldError{"notifications[2].tokens[2]", "duplicates tokens[0]"}));
  // APNs tokens are hex: case does not make a different device.
  std::string upper = ios_token(1);
  for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_EQ(error_of(ios({ios_token(1), upper})).path, "notifications[2].tokens[1]");
  // FCM tokens are case-sensitive.
  expect_valid(android({"abc", "ABC"}));
  EXPECT_EQ(error_of(android({"abc", "x", "abc"})).message, "duplicates tokens[0]");
}

TEST(Validate, DuplicatesAreFoundAmongManyTokens) {
  // Enough tokens for the duplicate table to fill and probe past collisions.
  auto ctx = demo_context();
  ctx.limits.max_tokens_per_notification = 2000;
  std::vector<std::string> tokens;
  for (int i = 0; i < 1000; ++i) tokens.push_back(ios_token(i));
  expect_valid(ios(tokens), ctx);
  std::string upper = ios_token(500);
  for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  tokens.push_back(upper);
  tokens.push_back(ios_token(7));
  EXPECT_EQ(error_of(ios(tokens), ctx), (FieldError{"notifications[2].tokens[1000]", "duplicates tokens[500]"}));
}

TEST(Validate, AppMustBeConfigured) {
  auto ctx = demo_context();
  auto n = ios();
  n.app = "demo";
  expect_valid(n, ctx);
  n.app = "nope";
  EXPECT_EQ(error_of(n, ctx),
            (FieldError{"notifications[2].app", R"(unknown app "nope" (configured: demo))"}));

  ctx.apps["other"] = AppProviders{true, false};
  n.app.clear();
  const auto e = error_of(n, ctx);
  EXPECT_EQ(e.path, "notifications[2].app");
  EXPECT_THAT(e.message, HasSubstr("is required when several apps are configured (demo, other)"));
  n.app = "other";
  expect_valid(n, ctx);

  ctx.apps.clear();
  EXPECT_EQ(error_of(n, ctx).message, "no apps are configured");
}

TEST(Validate, AppMustHaveThePlatformsProvider) {
  ValidationContext ctx = demo_context();
  ctx.apps["demo"] = AppProviders{false, true};
  const auto e = error_of(ios(), ctx);
  EXPECT_EQ(e.path, "notifications[2].platform");
  EXPECT_THAT(e.message, HasSubstr(R"(app "demo" has no apns configured)"));
  expect_valid(android(), ctx);
  ctx.apps["demo"] = AppProviders{true, false};
  EXPECT_THAT(error_of(android(), ctx).message, HasSubstr("has no fcm configured"));
}

TEST(Validate, ScalarLimits) {
  auto n = ios();
  n.collapse_id = std::string(64, 'c');
  expect_valid(n);
  n.collapse_id = std::string(65, 'c');
  EXPECT_EQ(error_of(n).path, "notifications[2].collapse_id");
  EXPECT_THAT(error_of(n).message, HasSubstr("at most 64 bytes"));

  n = ios();
  n.badge = 0;
  expect_valid(n);
  n.badge = -1;
  EXPECT_EQ(error_of(n), (FieldError{"notifications[2].badge", "must not be negative"}));

  n = ios();
  n.expiration = -1;
  EXPECT_EQ(error_of(n).path, "notifications[2].expiration");
  n.expiration = 0;
  expect_valid(n);

  n = ios();
  n.send_at = -5;
  EXPECT_EQ(error_of(n).path, "notifications[2].send_at");
  n.send_at = 1700000000000;  // milliseconds by mistake
  EXPECT_THAT(error_of(n).message, HasSubstr("not milliseconds"));
  n.send_at = kMaxUnixSeconds;
  expect_valid(n);
}

// A Live Activity update as ActivityKit takes it.
nlohmann::json live_update() { return {{"event", "update"}, {"content_state", {{"score", "2-1"}}}}; }

TEST(Validate, PushTypeMustBeKnown) {
  for (const auto& type : kApnsPushTypes) {
    auto n = ios();
    n.push_type = std::string(type.name);
    if (type.name == "mdm") n.topic = "com.apple.mgmt.External.0f1e2d3c";
    if (type.name == "liveactivity") n.live_activity = live_update();
    expect_valid(n);
  }
  auto n = ios();
  n.push_type = "banner";
  EXPECT_EQ(error_of(n).path, "notifications[2].push_type");
  EXPECT_THAT(error_of(n).message, HasSubstr("must be one of alert, background"));
  EXPECT_THAT(error_of(n).message, HasSubstr("widgets"));
}

TEST(Validate, EachPushTypeKeepsItsPriorityAndTopicRules) {
  auto ptt = ios();
  ptt.push_type = "pushtotalk";
  ptt.priority = Priority::normal;
  EXPECT_EQ(error_of(ptt).path, "notifications[2].priority");
  EXPECT_THAT(error_of(ptt).message, HasSubstr("apns-priority 10"));

  auto background = ios();
  background.push_type = "background";
  background.priority = Priority::high;  // sent with 5, the one priority background takes
  expect_valid(background);
  background.apns = nlohmann::json{{"headers", {{"APNs-Priority", "10"}}}};
  EXPECT_EQ(error_of(background).path, "notifications[2].apns.headers.apns-priority");
  EXPECT_THAT(error_of(background).message, HasSubstr("must be one of 5 for push type background"));

  auto live = ios();
  live.live_activity = live_update();
  live.apns = nlohmann::json{{"headers", {{"apns-priority", "1"}}}};
  EXPECT_EQ(error_of(live).path, "notifications[2].apns.headers.apns-priority");

  auto mdm = ios();
  mdm.push_type = "mdm";
  EXPECT_EQ(error_of(mdm).path, "notifications[2].topic");
  EXPECT_THAT(error_of(mdm).message, HasSubstr("MDM push certificate"));
}

TEST(Validate, LiveActivitiesHaveWhatActivityKitNeedsForTheirEvent) {
  auto n = ios();
  n.live_activity = live_update();
  expect_valid(n);
  n.push_type = "alert";
  EXPECT_EQ(error_of(n).path, "notifications[2].push_type");
  n.push_type = "liveactivity";
  expect_valid(n);

  n.live_activity = nlohmann::json{{"content_state", nlohmann::json::object()}};
  EXPECT_EQ(error_of(n).path, "notifications[2].live_activity.event");
  n.live_activity = nlohmann::json{{"event", "pause"}};
  EXPECT_EQ(error_of(n).path, "notifications[2].live_activity.event");
  n.live_activity = nlohmann::json{{"event", "update"}};
  EXPECT_EQ(error_of(n).path, "notifications[2].live_activity.content_state");
  n.live_activity = nlohmann::json{{"event", "end"}, {"dismissal_date", 1700000000}};
  expect_valid(n);
  n.live_activity = live_update();
  (*n.live_activity)["dismissal_date"] = 1700000000;
  EXPECT_EQ(error_of(n).path, "notifications[2].live_activity.dismissal_date");
  n.live_activity = live_update();
  (*n.live_activity)["attributes"] = nlohmann::json::object();
  EXPECT_EQ(error_of(n).path, "notifications[2].live_activity.attributes");
  EXPECT_THAT(error_of(n).message, HasSubstr("only for event start"));

  // Push-to-start: attributes, their type and an alert.
  nlohmann::json start = {{"event", "start"}, {"content_state", {{"score", "0-0"}}}};
  n.live_activity = start;
  EXPECT_EQ(error_of(n).path, "notifications[2].live_activity.attributes_type");
  start["attributes_type"] = "MatchAttributes";
  n.live_activity = start;
  EXPECT_EQ(error_of(n).path, "notifications[2].live_activity.attributes");
  start["attributes"] = {{"home", "Lyon"}};
  n.live_activity = start;
  EXPECT_EQ(error_of(n).path, "notifications[2].title");
  n.title = "Kick-off";
  expect_valid(n);
  start["input_push_channel"] = "not base64!";
  n.live_activity = start;
  EXPECT_EQ(error_of(n).path, "notifications[2].live_activity.input_push_channel");

  auto android_la = android();
  android_la.live_activity = live_update();
  EXPECT_EQ(error_of(android_la).path, "notifications[2].live_activity");
}

TEST(Validate, FcmTopicsAndConditionsAsFcmDocumentsThem) {
  auto n = android({"news"});
  n.target = Target::fcm_topic;
  expect_valid(n);
  for (const std::string& topic : {std::string("a-b_c.d~e%20"), std::string(900, 't')}) {
    n.tokens = {topic};
    expect_valid(n);
  }
  n.tokens = {"/topics/news"};
  EXPECT_EQ(error_of(n), (FieldError{"notifications[2].fcm_topic",
                                     "must be the topic name without the \"/topics/\" prefix"}));
  n.tokens = {"caf\xc3\xa9"};
  EXPECT_THAT(error_of(n).message, HasSubstr("character 3 is not one of"));
  n.tokens = {std::string(901, 't')};
  EXPECT_THAT(error_of(n).message, HasSubstr("1 to 900 characters"));

  n.target = Target::fcm_condition;
  for (const char* condition : {"'news' in topics", "'a' in topics && ('b' in topics || 'c' in topics)",
                                "!('a' in topics) || 'b' in topics&&'c' in topics",
                                "'a' in topics && 'b' in topics && 'c' in topics && 'd' in topics && 'e' in topics"}) {
    n.tokens = {condition};
    expect_valid(n);
  }
  n.tokens = {"'a' in topics && 'b' in topics && 'c' in topics && 'd' in topics && 'e' in topics || 'f' in topics"};
  EXPECT_EQ(error_of(n).path, "notifications[2].condition");
  EXPECT_THAT(error_of(n).message, HasSubstr("at most 5"));
  n.tokens = {"'a' in topics &&"};
  EXPECT_THAT(error_of(n).message, HasSubstr("expected '<topic>' in topics, ! or ( at character 16"));
  n.tokens = {"('a' in topics"};
  EXPECT_THAT(error_of(n).message, HasSubstr("expected ) at character 14"));
  n.tokens = {"\"a\" in topics"};
  EXPECT_THAT(error_of(n).message, HasSubstr("at character 0"));
  n.tokens = {"'a b' in topics"};
  EXPECT_THAT(error_of(n).message, HasSubstr("topic at character 1"));
  n.tokens = {"'a' in topic"};
  EXPECT_THAT(error_of(n).message, HasSubstr("expected in topics"));

  auto ios_topic = ios({"news"});
  ios_topic.target = Target::fcm_topic;
  EXPECT_EQ(error_of(ios_topic), (FieldError{"notifications[2].fcm_topic", "is for platform android (an FCM target)"}));
}

TEST(Validate, BroadcastChannelsCarryLiveActivityUpdatesOnly) {
  auto n = ios({"dHN0LXNyY2gtY2hubA=="});
  n.target = Target::apns_channel;
  n.live_activity = live_update();
  expect_valid(n);
  n.live_activity.reset();  // the push type is liveactivity, so its fields are needed
  EXPECT_EQ(error_of(n).path, "notifications[2].live_activity");
  n.live_activity = live_update();
  n.push_type = "alert";
  EXPECT_EQ(error_of(n), (FieldError{"notifications[2].push_type", "must be liveactivity for a broadcast channel"}));
  n.push_type.reset();
  n.title = "Kick-off";
  n.live_activity = nlohmann::json{{"event", "start"}, {"content_state", nlohmann::json::object()},
                                   {"attributes_type", "A"}, {"attributes", nlohmann::json::object()}};
  EXPECT_EQ(error_of(n).path, "notifications[2].live_activity.event");
  n.live_activity = live_update();
  n.tokens = {"not base64"};
  EXPECT_EQ(error_of(n).path, "notifications[2].channel");
  n.tokens = {"abc"};
  EXPECT_THAT(error_of(n).message, HasSubstr("divisible by 4"));

  auto android_channel = android({"dHN0LXNyY2gtY2hubA=="});
  android_channel.target = Target::apns_channel;
  EXPECT_EQ(error_of(android_channel).message, "is for platform ios (an APNs broadcast channel)");
}

TEST(Validate, IdLength) {
  auto n = ios();
  n.id = std::string(256, 'i');
  expect_valid(n);
  n.id = std::string(257, 'i');
  EXPECT_EQ(error_of(n).path, "notifications[2].id");
  n.id = "";
  EXPECT_THAT(error_of(n).message, HasSubstr("must be 1 to 256 bytes long"));
  // A stored job may carry the "#<n>" suffix split_into_jobs adds.
  n.id = std::string(256, 'i') + "#12";
  n.job = JobMeta{"j", 0, 0, 0};
  expect_valid(n);
}

TEST(Validate, ApsIsReservedInIosData) {
  auto n = ios();
  n.data = nlohmann::json{{"aps", 1}, {"x", 2}};
  EXPECT_EQ(error_of(n).path, "notifications[2].data.aps");
  auto a = android();
  a.data = n.data;
  expect_valid(a);
}

TEST(Validate, ApnsPassThroughHeaders) {
  struct Case {
    std::string name, value, message;
  };
  const std::vector<Case> bad = {
      {"apns-id", "x", "is assigned by pushgw"},
      {"authorization", "bearer x", "only apns-* request headers"},
      {"apns-", "x", "only apns-* request headers"},
      {"apns-topic", "a\r\nx: y", "must not contain CR, LF or NUL"},
      {"apns-push-type", "banner", "must be one of alert, background"},
      {"apns-priority", "7", R"(must be "10", "5" or "1")"},
      {"apns-expiration", "soon", "unix time"},
      {"apns-collapse-id", std::string(65, 'c'), "at most 64 bytes"},
      {"apns-topic", "", "must not be empty"},
  };
  for (const auto& c : bad) {
    auto n = ios();
    n.apns = nlohmann::json{{"headers", {{c.name, c.value}}}};
    const auto e = error_of(n);
    EXPECT_THAT(e.path, HasSubstr("notifications[2].apns.headers")) << c.name;
    EXPECT_THAT(e.message, HasSubstr(c.message)) << c.name;
  }
  auto n = ios();
  n.apns = nlohmann::json{{"headers",
                           {{"APNS-Topic", "com.example"}, {"apns-priority", "5"},
                            {"apns-expiration", "0"}, {"apns-push-type", "voip"}}}};
  expect_valid(n);
  n.apns = nlohmann::json{{"payload", {{"aps", "x"}}}};
  EXPECT_EQ(error_of(n).path, "notifications[2].apns.payload.aps");
  n.apns = nlohmann::json{{"headers", {{"apns-topic", 5}}}};  // built in code, not decoded
  EXPECT_EQ(error_of(n).message, "must be a string");
}

TEST(Validate, TraceIdAndTraceparent) {
  auto n = ios();
  n.trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
  EXPECT_FALSE(validate_notification(n, demo_context(), ""));
  for (const char* bad : {"4BF92F3577B34DA6A3CE929D0E0E4736", "00000000000000000000000000000000", "4bf9", "xyz"}) {
    n.trace_id = bad;
    EXPECT_EQ(error_of(n).path, "notifications[2].trace_id") << bad;
  }
  EXPECT_EQ(trace_id_of_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
            "4bf92f3577b34da6a3ce929d0e0e4736");
  // A later version may add fields; version ff, zero ids, upper case and short headers are invalid.
  EXPECT_EQ(trace_id_of_traceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-more"),
            "4bf92f3577b34da6a3ce929d0e0e4736");
  for (const char* bad : {"ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                          "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
                          "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
                          "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
                          "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x", "00-4bf9", ""}) {
    EXPECT_EQ(trace_id_of_traceparent(bad), std::nullopt) << bad;
  }
}

TEST(Validate, ResolveApp) {
  auto ctx = demo_context();
  auto n = ios();
  EXPECT_EQ(resolve_app(n, ctx), "demo");
  n.app = "demo";
  EXPECT_EQ(resolve_app(n, ctx), "demo");
  n.app = "other";
  EXPECT_EQ(resolve_app(n, ctx), std::nullopt);
  ctx.apps["other"] = {};
  EXPECT_EQ(resolve_app(n, ctx), "other");
  n.app.clear();
  EXPECT_EQ(resolve_app(n, ctx), std::nullopt);
}

TEST(Validate, ContextFromConfig) {
  config::Config cfg;
  cfg.limits.max_tokens_per_notification = 7;
  cfg.apps["a"].apns = config::ApnsConfig{};
  cfg.apps["b"].fcm = config::FcmConfig{};
  const auto ctx = ValidationContext::from_config(cfg);
  EXPECT_EQ(ctx.limits.max_tokens_per_notification, 7u);
  ASSERT_EQ(ctx.apps.size(), 2u);
  EXPECT_TRUE(ctx.apps.at("a").apns);
  EXPECT_FALSE(ctx.apps.at("a").fcm);
  EXPECT_FALSE(ctx.apps.at("b").apns);
  EXPECT_TRUE(ctx.apps.at("b").fcm);
}

}  // namespace
}  // namespace pushgw::job
