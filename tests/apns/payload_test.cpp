#include "pushgw/apns/payload.hpp"

#include <algorithm>
#include <optional>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "job/fixtures.hpp"

namespace pushgw::apns {
namespace {

using nlohmann::json;
using pushgw::testing::ios_token;

job::Notification ios() {
  job::Notification n;
  n.tokens = {ios_token(1)};
  return n;
}

std::optional<std::string> header(const HeaderList& headers, const std::string& name) {
  std::optional<std::string> found;
  for (const auto& [k, v] : headers) {
    if (k == name) {
      EXPECT_FALSE(found) << "header " << name << " appears twice";
      found = v;
    }
  }
  return found;
}

TEST(ApnsPayload, EmptyNotificationHasAnEmptyAps) {
  EXPECT_EQ(build_apns_payload(ios()), R"({"aps":{}})");
}

TEST(ApnsPayload, CompactJson) {
  auto n = ios();
  n.title = "t";
  n.message = "b";
  EXPECT_EQ(build_apns_payload(n), R"({"aps":{"alert":{"body":"b","title":"t"}}})");
}

TEST(ApnsPayload, EveryFieldLandsInItsKey) {
  auto n = ios();
  n.title = "Title";
  n.message = "Body";
  n.badge = 0;
  n.sound = "ping.caf";
  n.category = "CAT";
  n.thread_id = "th";
  n.content_available = true;
  n.mutable_content = true;
  n.data = json{{"chat", 42}, {"deep", {{"x", {1, 2}}}}};
  const auto p = json::parse(build_apns_payload(n));
  EXPECT_EQ(p, (json{{"aps",
                      {{"alert", {{"title", "Title"}, {"body", "Body"}}},
                       {"badge", 0},
                       {"sound", "ping.caf"},
                       {"category", "CAT"},
                       {"thread-id", "th"},
                       {"content-available", 1},
                       {"mutable-content", 1}}},
                     {"chat", 42},
                     {"deep", {{"x", {1, 2}}}}}));
}

TEST(ApnsPayload, TitleOrMessageAlone) {
  auto n = ios();
  n.title = "only";
  EXPECT_EQ(build_apns_payload_json(n)["aps"]["alert"], (json{{"title", "only"}}));
  n = ios();
  n.message = "only";
  EXPECT_EQ(build_apns_payload_json(n)["aps"]["alert"], (json{{"body", "only"}}));
}

TEST(ApnsPayload, FalseFlagsAndImageAreNotWritten) {
  auto n = ios();
  n.content_available = false;
  n.mutable_content = false;
  n.image = "https://example.com/i.png";
  n.priority = job::Priority::high;
  EXPECT_EQ(build_apns_payload(n), R"({"aps":{}})");
}

TEST(ApnsPayload, PassThroughPayloadWins) {
  auto n = ios();
  n.title = "built title";
  n.message = "built body";
  n.sound = "built.caf";
  n.data = json{{"k", "from data"}, {"keep", 1}};
  n.apns = json{{"payload",
                 {{"aps", {{"alert", {{"title", "pass title"}, {"subtitle", "sub"}}},
                           {"sound", nullptr},
                           {"interruption-level", "time-sensitive"}}},
                  {"k", "from pass-through"},
                  {"extra", {1, 2}}}}};
  const auto p = build_apns_payload_json(n);
  EXPECT_EQ(p["aps"]["alert"],
            (json{{"title", "pass title"}, {"body", "built body"}, {"subtitle", "sub"}}));
  EXPECT_FALSE(p["aps"].contains("sound")) << "null in the pass-through removes a built key";
  EXPECT_EQ(p["aps"]["interruption-level"], "time-sensitive");
  EXPECT_EQ(p["k"], "from pass-through");
  EXPECT_EQ(p["keep"], 1);
  EXPECT_EQ(p["extra"], json({1, 2}));
}

TEST(ApnsPayload, PassThroughCanReplaceTheAlertWithAString) {
  auto n = ios();
  n.title = "t";
  n.apns = json{{"payload", {{"aps", {{"alert", "plain"}}}}}};
  EXPECT_EQ(build_apns_payload_json(n)["aps"]["alert"], "plain");
}

TEST(ApnsPayload, SizeLimitDependsOnThePushType) {
  auto n = ios();
  EXPECT_EQ(apns_payload_limit(n), 4096u);
  n.push_type = "voip";
  EXPECT_EQ(apns_payload_limit(n), 5120u);
  n.push_type = "background";
  EXPECT_EQ(apns_payload_limit(n), 4096u);
  n.push_type.reset();
  n.apns = json{{"headers", {{"apns-push-type", "voip"}}}};
  EXPECT_EQ(apns_payload_limit(n), 5120u);
}

TEST(ApnsHeaders, Defaults) {
  const auto h = build_apns_headers(ios(), "com.example.app");
  EXPECT_EQ(h, (HeaderList{{"apns-push-type", "alert"},
                           {"apns-priority", "10"},
                           {"apns-topic", "com.example.app"}}));
}

TEST(ApnsHeaders, EveryField) {
  auto n = ios();
  n.priority = job::Priority::normal;
  n.expiration = 1700000000;
  n.collapse_id = "group-1";
  n.topic = "com.other.app";
  n.push_type = "alert";
  const auto h = build_apns_headers(n, "com.example.app");
  EXPECT_EQ(header(h, "apns-push-type"), "alert");
  EXPECT_EQ(header(h, "apns-priority"), "5");
  EXPECT_EQ(header(h, "apns-expiration"), "1700000000");
  EXPECT_EQ(header(h, "apns-collapse-id"), "group-1");
  EXPECT_EQ(header(h, "apns-topic"), "com.other.app");
  EXPECT_FALSE(header(h, "apns-id")) << "the sender sets apns-id";
}

TEST(ApnsHeaders, PriorityHighIsTen) {
  auto n = ios();
  n.priority = job::Priority::high;
  EXPECT_EQ(header(build_apns_headers(n, "t"), "apns-priority"), "10");
}

TEST(ApnsHeaders, ContentAvailableAloneIsABackgroundPushAtPriorityFive) {
  auto n = ios();
  n.content_available = true;
  n.data = json{{"sync", true}};
  n.priority = job::Priority::high;  // APNs rejects 10 for background pushes
  auto h = build_apns_headers(n, "t");
  EXPECT_EQ(header(h, "apns-push-type"), "background");
  EXPECT_EQ(header(h, "apns-priority"), "5");

  // Anything the user sees makes it an alert push.
  for (int field = 0; field < 4; ++field) {
    auto m = n;
    if (field == 0) m.title = "t";
    if (field == 1) m.message = "m";
    if (field == 2) m.sound = "s";
    if (field == 3) m.badge = 1;
    h = build_apns_headers(m, "t");
    EXPECT_EQ(header(h, "apns-push-type"), "alert") << field;
    EXPECT_EQ(header(h, "apns-priority"), "10") << field;
  }
  // The pass-through payload counts too.
  auto m = n;
  m.apns = json{{"payload", {{"aps", {{"alert", "hi"}}}}}};
  EXPECT_EQ(header(build_apns_headers(m, "t"), "apns-push-type"), "alert");
  m = ios();
  m.apns = json{{"payload", {{"aps", {{"content-available", 1}}}}}};
  EXPECT_EQ(header(build_apns_headers(m, "t"), "apns-push-type"), "background");
}

TEST(ApnsHeaders, TopicSuffixForPushKitTypes) {
  auto n = ios();
  n.push_type = "voip";
  EXPECT_EQ(header(build_apns_headers(n, "com.example.app"), "apns-topic"), "com.example.app.voip");
  n.topic = "com.example.app.voip";
  EXPECT_EQ(header(build_apns_headers(n, "x"), "apns-topic"), "com.example.app.voip");
  n.topic.reset();
  n.push_type = "liveactivity";
  EXPECT_EQ(header(build_apns_headers(n, "b"), "apns-topic"), "b.push-type.liveactivity");
  n.push_type = "complication";
  EXPECT_EQ(header(build_apns_headers(n, "b"), "apns-topic"), "b.complication");
  n.push_type = "fileprovider";
  EXPECT_EQ(header(build_apns_headers(n, "b"), "apns-topic"), "b.pushkit.fileprovider");
  n.push_type = "location";
  EXPECT_EQ(header(build_apns_headers(n, "b"), "apns-topic"), "b.location-query");
  n.push_type = "pushtotalk";
  EXPECT_EQ(header(build_apns_headers(n, "b"), "apns-topic"), "b.voip-ptt");
  n.push_type = "widgets";
  EXPECT_EQ(header(build_apns_headers(n, "b"), "apns-topic"), "b.push-type.widgets");
  // An MDM push goes to its certificate's topic, never the app's bundle id.
  n.push_type = "mdm";
  EXPECT_FALSE(header(build_apns_headers(n, "b"), "apns-topic"));
  n.topic = "com.apple.mgmt.External.0f1e";
  EXPECT_EQ(header(build_apns_headers(n, "b"), "apns-topic"), "com.apple.mgmt.External.0f1e");
}

// Every push type Apple defines: apns-push-type always sent, the topic and priority it needs.
TEST(ApnsHeaders, EveryPushTypeGetsItsTopicAndPriority) {
  struct Case {
    const char* type;
    const char* topic;
    const char* priority_unset;
    const char* priority_normal;
  };
  const Case cases[] = {
      {"alert", "b", "10", "5"},
      {"background", "b", "5", "5"},
      {"location", "b.location-query", "10", "5"},
      {"voip", "b.voip", "10", "5"},
      {"complication", "b.complication", "10", "5"},
      {"fileprovider", "b.pushkit.fileprovider", "10", "5"},
      {"liveactivity", "b.push-type.liveactivity", "10", "5"},
      {"pushtotalk", "b.voip-ptt", "10", "10"},
      {"widgets", "b.push-type.widgets", "10", "5"},
  };
  ASSERT_EQ(std::size(cases) + 1, std::size(job::kApnsPushTypes)) << "mdm is tested above";
  for (const auto& c : cases) {
    auto n = ios();
    n.push_type = c.type;
    auto h = build_apns_headers(n, "b");
    EXPECT_EQ(header(h, "apns-push-type"), c.type);
    EXPECT_EQ(header(h, "apns-topic"), c.topic) << c.type;
    EXPECT_EQ(header(h, "apns-priority"), c.priority_unset) << c.type;
    n.priority = job::Priority::normal;
    EXPECT_EQ(header(build_apns_headers(n, "b"), "apns-priority"), c.priority_normal) << c.type;
  }
  // PushToTalk: now or never.
  auto ptt = ios();
  ptt.push_type = "pushtotalk";
  EXPECT_EQ(header(build_apns_headers(ptt, "b"), "apns-expiration"), "0");
  ptt.expiration = 1700000000;
  EXPECT_EQ(header(build_apns_headers(ptt, "b"), "apns-expiration"), "1700000000");
}

TEST(ApnsPayload, WidgetsAskForAReload) {
  auto n = ios();
  n.push_type = "widgets";
  EXPECT_EQ(build_apns_payload(n), R"({"aps":{"content-changed":true}})");
}

TEST(ApnsPayload, LiveActivityFieldsGoToApsUnderApplesNames) {
  auto n = ios();
  n.title = "Kick-off";
  n.message = "Lyon - Nice";
  n.live_activity = json{{"event", "start"},
                         {"content_state", {{"score", "0-0"}}},
                         {"timestamp", 1700000000},
                         {"stale_date", 1700003600},
                         {"relevance_score", 50},
                         {"attributes_type", "MatchAttributes"},
                         {"attributes", {{"home", "Lyon"}}},
                         {"input_push_token", true}};
  EXPECT_EQ(build_apns_payload_json(n),
            (json{{"aps",
                   {{"alert", {{"title", "Kick-off"}, {"body", "Lyon - Nice"}}},
                    {"event", "start"},
                    {"content-state", {{"score", "0-0"}}},
                    {"timestamp", 1700000000},
                    {"stale-date", 1700003600},
                    {"relevance-score", 50},
                    {"attributes-type", "MatchAttributes"},
                    {"attributes", {{"home", "Lyon"}}},
                    {"input-push-token", 1}}}}));
  auto h = build_apns_headers(n, "com.example.app");
  EXPECT_EQ(header(h, "apns-push-type"), "liveactivity");
  EXPECT_EQ(header(h, "apns-topic"), "com.example.app.push-type.liveactivity");

  // An update without a timestamp carries the time the job was stored: a retry never
  // passes a newer update on the device.
  auto update = ios();
  update.live_activity = json{{"event", "end"}, {"dismissal_date", 1700000100}, {"input_push_channel", "x"}};
  update.job = job::JobMeta{"id", 1700000050999, 2, 0};
  const auto aps = build_apns_payload_json(update)["aps"];
  EXPECT_EQ(aps["timestamp"], 1700000050);
  EXPECT_EQ(aps["dismissal-date"], 1700000100);
  EXPECT_EQ(aps["input-push-channel"], "x");
  EXPECT_FALSE(aps.contains("input-push-token"));
}

TEST(ApnsHeaders, ABroadcastNamesNoTopicAndAlwaysAnExpiration) {
  auto n = ios();
  n.target = job::Target::apns_channel;
  n.tokens = {"dHN0LXNyY2gtY2hubA=="};
  n.live_activity = json{{"event", "update"}, {"content_state", json::object()}};
  n.collapse_id = "c";
  auto h = build_apns_headers(n, "com.example.app");
  EXPECT_EQ(h, (HeaderList{{"apns-push-type", "liveactivity"}, {"apns-priority", "10"}, {"apns-expiration", "0"}}));
  EXPECT_EQ(apns_payload_limit(n), 5120u);
}

TEST(ApnsHeaders, NoTopicWhenNoneIsKnown) {
  auto n = ios();
  n.topic = "";
  EXPECT_FALSE(header(build_apns_headers(n, ""), "apns-topic"));
  EXPECT_EQ(header(build_apns_headers(n, "dflt"), "apns-topic"), "dflt");
}

TEST(ApnsHeaders, PassThroughHeadersOverrideByName) {
  auto n = ios();
  n.priority = job::Priority::high;
  n.collapse_id = "built";
  n.apns = json{{"headers",
                 {{"APNS-Priority", "5"}, {"apns-collapse-id", "passed"},
                  {"apns-push-type", "voip"}, {"apns-new-header", "x"}}}};
  const auto h = build_apns_headers(n, "com.example.app");
  EXPECT_EQ(header(h, "apns-priority"), "5");
  EXPECT_EQ(header(h, "apns-collapse-id"), "passed");
  EXPECT_EQ(header(h, "apns-push-type"), "voip");
  EXPECT_EQ(header(h, "apns-topic"), "com.example.app.voip") << "suffix follows the effective type";
  EXPECT_EQ(header(h, "apns-new-header"), "x");
  EXPECT_FALSE(header(h, "APNS-Priority")) << "names are lowercased";
  n.apns = json{{"headers", {{"apns-topic", "exact.topic"}}}};
  n.push_type = "voip";
  EXPECT_EQ(header(build_apns_headers(n, "d"), "apns-topic"), "exact.topic");
}

}  // namespace
}  // namespace pushgw::apns
