#include "pushgw/job/codec.hpp"

#include <functional>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "job/fixtures.hpp"
#include "pushgw/common/utf8.hpp"

namespace pushgw::job {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
using pushgw::testing::full_notification;
using pushgw::testing::ios_token;

Notification decode_ok(const json& j) {
  auto r = decode_notification(j, "");
  EXPECT_TRUE(std::holds_alternative<Notification>(r))
      << std::get<FieldError>(r).path << ": " << std::get<FieldError>(r).message;
  return std::holds_alternative<Notification>(r) ? std::get<Notification>(r) : Notification{};
}

FieldError decode_error(const json& j, const std::string& path) {
  auto r = decode_notification(j, path);
  EXPECT_TRUE(std::holds_alternative<FieldError>(r)) << "decoded without error: " << j.dump();
  return std::holds_alternative<FieldError>(r) ? std::get<FieldError>(r) : FieldError{};
}

json minimal() { return json{{"platform", "ios"}, {"tokens", {ios_token(1)}}}; }

TEST(Codec, RoundTripsEveryField) {
  const auto n = full_notification();
  EXPECT_EQ(decode_ok(encode_notification(n)), n);
}

TEST(Codec, RoundTripsEachFieldAlone) {
  // One setter per optional field: each must survive encode → decode on its own.
  const auto full = full_notification();
  const std::vector<std::function<void(Notification&)>> setters = {
      [&](Notification& n) { n.app = full.app; },
      [&](Notification& n) { n.title = full.title; },
      [&](Notification& n) { n.message = full.message; },
      [&](Notification& n) { n.badge = 0; },
      [&](Notification& n) { n.sound = full.sound; },
      [&](Notification& n) { n.category = full.category; },
      [&](Notification& n) { n.thread_id = full.thread_id; },
      [&](Notification& n) { n.image = full.image; },
      [&](Notification& n) { n.data = full.data; },
      [&](Notification& n) { n.priority = Priority::high; },
      [&](Notification& n) { n.priority = Priority::normal; },
      [&](Notification& n) { n.collapse_id = full.collapse_id; },
      [&](Notification& n) { n.expiration = 0; },
      [&](Notification& n) { n.push_type = "voip"; },
      [&](Notification& n) { n.content_available = true; },
      [&](Notification& n) { n.content_available = false; },
      [&](Notification& n) { n.mutable_content = true; },
      [&](Notification& n) { n.topic = full.topic; },
      [&](Notification& n) { n.apns = full.apns; },
      [&](Notification& n) { n.fcm = full.fcm; },
      [&](Notification& n) { n.id = full.id; },
      [&](Notification& n) { n.lane = "high"; },
      [&](Notification& n) { n.send_at = full.send_at; },
      [&](Notification& n) { n.job = full.job; },
      [&](Notification& n) { n.job = JobMeta{"x", 0, 0, 0}; },
      [&](Notification& n) { n.platform = Platform::android; },
      [&](Notification& n) { n.live_activity = json{{"event", "update"}, {"relevance_score", 0.5}}; },
      [&](Notification& n) { n.target = Target::fcm_topic; },
      [&](Notification& n) { n.target = Target::fcm_condition; },
      [&](Notification& n) { n.target = Target::apns_channel; },
  };
  for (std::size_t i = 0; i < setters.size(); ++i) {
    Notification base;
    base.tokens = {ios_token(1)};
    Notification n = base;
    setters[i](n);
    ASSERT_NE(n, base) << "setter " << i << " changed nothing";
    EXPECT_EQ(decode_ok(encode_notification(n)), n) << "setter " << i;
  }
}

TEST(Codec, EncodesOnlyTheFieldsThatAreSet) {
  Notification n;
  n.tokens = {"a"};
  EXPECT_EQ(encode_notification(n), (json{{"platform", "ios"}, {"tokens", {"a"}}}));
  n.platform = Platform::android;
  n.title = "t";
  n.priority = Priority::high;
  EXPECT_EQ(encode_notification(n),
            (json{{"platform", "android"}, {"tokens", {"a"}}, {"title", "t"}, {"priority", "high"}}));
}

TEST(Codec, ATopicConditionOrChannelIsItsOwnFieldAndTheOnlyToken) {
  const auto topic = decode_ok(json{{"platform", "android"}, {"fcm_topic", "news"}});
  EXPECT_EQ(topic.target, Target::fcm_topic);
  EXPECT_EQ(topic.tokens, std::vector<std::string>{"news"});
  EXPECT_EQ(encode_notification(topic), (json{{"platform", "android"}, {"fcm_topic", "news"}}));
  const auto condition = decode_ok(json{{"platform", "android"}, {"condition", "'a' in topics"}});
  EXPECT_EQ(condition.target, Target::fcm_condition);
  EXPECT_EQ(encode_notification(condition)["condition"], "'a' in topics");
  const auto channel = decode_ok(json{{"platform", "ios"}, {"channel", "dHN0LXNyY2gtY2hubA=="}, {"tokens", nullptr}});
  EXPECT_EQ(channel.target, Target::apns_channel);
  EXPECT_EQ(encode_notification(channel)["channel"], "dHN0LXNyY2gtY2hubA==");

  EXPECT_EQ(decode_error(json{{"platform", "android"}, {"tokens", {"t"}}, {"fcm_topic", "news"}}, ""),
            (FieldError{"fcm_topic", "cannot be combined with tokens: a notification goes to tokens or to one target"}));
  EXPECT_EQ(decode_error(json{{"platform", "android"}, {"condition", "'a' in topics"}, {"fcm_topic", "news"}}, ""),
            (FieldError{"fcm_topic", "cannot be combined with condition: a notification goes to one topic, "
                                     "condition or channel"}));
  EXPECT_EQ(decode_error(json{{"platform", "android"}, {"fcm_topic", 7}}, ""), (FieldError{"fcm_topic", "must be a string"}));
  EXPECT_EQ(decode_error(json{{"platform", "android"}}, ""), (FieldError{"tokens", "is required (or fcm_topic, condition, channel)"}));
}

TEST(Codec, LiveActivityFieldsAreCheckedByType) {
  const json la = {{"event", "start"}, {"content_state", {{"s", 1}}}, {"timestamp", 1700000000},
                   {"stale_date", 1700000600}, {"dismissal_date", 1700000900}, {"relevance_score", 75.5},
                   {"attributes_type", "MatchAttributes"}, {"attributes", {{"home", "Lyon"}}},
                   {"input_push_token", true}, {"input_push_channel", "dHN0LXNyY2gtY2hubA=="}};
  EXPECT_EQ(decode_ok(json{{"platform", "ios"}, {"tokens", {"t"}}, {"live_activity", la}}).live_activity, la);
  const auto error_for = [](json field) {
    return decode_error(json{{"platform", "ios"}, {"tokens", {"t"}}, {"live_activity", std::move(field)}}, "");
  };
  EXPECT_EQ(error_for(json::array()), (FieldError{"live_activity", "must be an object"}));
  EXPECT_EQ(error_for(json{{"evnt", "start"}}),
            (FieldError{"live_activity.evnt", R"(unknown field "evnt" (did you mean "event"?))"}));
  EXPECT_EQ(error_for(json{{"event", 1}}), (FieldError{"live_activity.event", "must be a string"}));
  EXPECT_EQ(error_for(json{{"content_state", "x"}}), (FieldError{"live_activity.content_state", "must be an object"}));
  EXPECT_EQ(error_for(json{{"timestamp", -1}}).path, "live_activity.timestamp");
  EXPECT_EQ(error_for(json{{"stale_date", 1.5}}), (FieldError{"live_activity.stale_date", "must be an integer"}));
  EXPECT_EQ(error_for(json{{"relevance_score", "high"}}), (FieldError{"live_activity.relevance_score", "must be a number"}));
  EXPECT_EQ(error_for(json{{"input_push_token", 1}}), (FieldError{"live_activity.input_push_token", "must be true or false"}));
}

TEST(Codec, EncodesJobMetaWithAllItsFields) {
  Notification n;
  n.job = JobMeta{"id1", 5, 1, 2};
  EXPECT_EQ(encode_notification(n)["job"],
            (json{{"id", "id1"}, {"enqueued_ms", 5}, {"attempt", 1}, {"redeliveries", 2}}));
}

TEST(Codec, JobStringRoundTrip) {
  const auto n = full_notification();
  const auto text = encode_job_string(n);
  EXPECT_EQ(text.find('\n'), std::string::npos);
  auto r = decode_job_string(text);
  ASSERT_TRUE(std::holds_alternative<std::vector<Notification>>(r));
  const auto& list = std::get<std::vector<Notification>>(r);
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0], n);
}

// decode_job_string reads most texts with the fast reader (fast_json.hpp) and the rest with
// nlohmann: whatever the text, it must decide as nlohmann reading it does.
TEST(Codec, JobsDecodeAsWithNlohmannAlone) {
  const std::string t1 = ios_token(1);
  const std::string t2 = ios_token(2);
  const std::vector<std::string> texts = {
      R"({"platform":"ios","tokens":[")" + t1 + R"(",")" + t2 + R"("],"title":"x"})",
      " {\n \"tokens\" :\t[ \"" + t1 + "\" ,\r\n \"" + t2 + "\" ] , \"platform\": \"ios\" } ",
      R"({"tokens":[],"platform":"ios"})",
      R"({"platform":"ios","tokens":["a\u0062"],"title":"caf\u00e9 \ud83d\ude00"})",
      R"({"platform":"ios","tokens":["\u00e9", "é"],"badge":3,"data":{"k":[1,-2,1.5,1e3,null]}})",
      R"({"platform":"ios","app":"tokens","tokens":["t1"],"data":{"tokens":["zz"]}})",
      R"({"platform":"ios","tokens":["a"],"tokens":["b"]})",
      R"({"platform":"ios","tok\u0065ns":["a"],"tokens":["b"]})",
      R"({"platform":"ios","tokens":["a",1]})",
      R"({"platform":"ios","tokens":["a" "b"]})",
      R"({"platform":"ios","tokens":["a",]})",
      R"({"platform":"ios","tokens":["a"],})",
      R"({"platform":"ios","tokens":["a"]} x)",
      R"({"platform":"ios","tokens":["a)",
      R"({"platform":"ios","tokens":"a"})",
      R"({"platform":"ios","tokens":["a"],"bogus":1})",
      R"({"platform":"ios","tokens":["a"],"badge":"x"})",
      R"({"platform":"ios","tokens":["a"],"badge":12345678901234567890})",
      R"({"tokens":["a"]})",
      R"({"platform":"ios","tokens":["tab\there"]})",
      "{\"platform\":\"ios\",\"tokens\":[\"a\"],\"title\":\"\xFF\"}",
      R"({"platform":"android","fcm_topic":"news","title":"x"})",
      R"j({"platform":"android","condition":"'a' in topics && !('b' in topics)"})j",
      R"({"platform":"android","fcm_topic":"news","tokens":["t"]})",
      R"({"platform":"ios","channel":"dHN0LXNyY2gtY2hubA==","live_activity":{"event":"update","content_state":{"s":[1,2]},"relevance_score":0.5,"timestamp":1700000000}})",
      R"({"platform":"ios","tokens":["a"],"live_activity":{"event":"start","attributes":{"k":{"n":-3}},"input_push_token":true}})",
  };
  for (const auto& text : texts) {
    json parsed;
    try {
      parsed = json::parse(text);
    } catch (const json::parse_error& e) {
      const auto r = decode_job_string(text);
      ASSERT_TRUE(std::holds_alternative<FieldError>(r)) << text;
      EXPECT_THAT(std::get<FieldError>(r).message, ::testing::StartsWith("invalid JSON at byte " + std::to_string(e.byte)))
          << text;
      continue;
    }
    auto one = decode_notification(std::move(parsed), "");
    std::variant<std::vector<Notification>, FieldError> expected = FieldError{};
    if (auto* e = std::get_if<FieldError>(&one)) {
      expected = *e;
    } else {
      expected = std::vector<Notification>{std::get<Notification>(one)};
    }
    EXPECT_EQ(decode_job_string(text), expected) << text;
  }
}

TEST(Codec, PlatformAcceptsNamesAndGorushNumbers) {
  auto j = minimal();
  j["platform"] = 1;
  EXPECT_EQ(decode_ok(j).platform, Platform::ios);
  j["platform"] = 2;
  EXPECT_EQ(decode_ok(j).platform, Platform::android);
  j["platform"] = "android";
  EXPECT_EQ(decode_ok(j).platform, Platform::android);
  for (const json& bad : {json("IOS"), json(3), json(1.0), json(true), json::array()}) {
    j["platform"] = bad;
    const auto e = decode_error(j, "notifications[0]");
    EXPECT_EQ(e.path, "notifications[0].platform");
    EXPECT_EQ(e.message, R"(must be "ios", "android" or "web" (or 1/2))");
  }
}

TEST(Codec, NullMeansAbsentForOptionalFields) {
  auto j = minimal();
  j["title"] = nullptr;
  j["data"] = nullptr;
  const auto n = decode_ok(j);
  EXPECT_FALSE(n.title);
  EXPECT_FALSE(n.data);
  j["platform"] = nullptr;
  EXPECT_EQ(decode_error(j, "").path, "platform");
}

struct BadField {
  std::string field;   // top-level field to set (or "-" to erase `erase`)
  json value;
  std::string path;    // expected path under "notifications[3]"
  std::string message; // expected substring
};

TEST(Codec, NamesTheFirstBadFieldByPath) {
  const std::vector<BadField> cases = {
      {"tokens", "abc", ".tokens", "must be an array of strings"},
      {"tokens", json::array({ios_token(1), 5}), ".tokens[1]", "must be a string"},
      {"titel", "x", ".titel", R"(unknown field "titel" (did you mean "title"?))"},
      {"zzzzzzzz", 1, ".zzzzzzzz", R"(unknown field "zzzzzzzz")"},
      {"app", 1, ".app", "must be a string"},
      {"title", 1, ".title", "must be a string"},
      {"message", json::object(), ".message", "must be a string"},
      {"badge", "1", ".badge", "must be an integer"},
      {"badge", 1.5, ".badge", "must be an integer"},
      {"badge", 18446744073709551615ull, ".badge", "must be an integer from"},
      {"sound", true, ".sound", "must be a string"},
      {"category", 1, ".category", "must be a string"},
      {"thread_id", 1, ".thread_id", "must be a string"},
      {"image", 1, ".image", "must be a string"},
      {"data", json::array(), ".data", "must be an object"},
      {"data", "{}", ".data", "must be an object"},
      {"priority", "urgent", ".priority", R"(must be "high" or "normal")"},
      {"collapse_id", 1, ".collapse_id", "must be a string"},
      {"expiration", "soon", ".expiration", "must be an integer"},
      {"push_type", 1, ".push_type", "must be a string"},
      {"content_available", "yes", ".content_available", "must be true or false"},
      {"mutable_content", 1, ".mutable_content", "must be true or false"},
      {"topic", 1, ".topic", "must be a string"},
      {"apns", "x", ".apns", "must be an object"},
      {"apns", {{"header", json::object()}}, ".apns.header", R"(did you mean "headers"?)"},
      {"apns", {{"headers", {{"apns-topic", 1}}}}, ".apns.headers.apns-topic", "must be a string"},
      {"apns", {{"headers", json::array()}}, ".apns.headers", "must be an object of strings"},
      {"apns", {{"payload", 1}}, ".apns.payload", "must be an object"},
      {"fcm", json::array(), ".fcm", "must be an object"},
      {"id", 7, ".id", "must be a string"},
      {"lane", "fast", ".lane", R"(must be "high", "default" or "bulk")"},
      {"send_at", "tomorrow", ".send_at", "must be an integer"},
      {"job", 1, ".job", "must be an object"},
      {"job", json::object(), ".job.id", "is required"},
      {"job", {{"id", ""}}, ".job.id", "must be a non-empty string"},
      {"job", {{"id", "a"}, {"attempt", -1}}, ".job.attempt", "must be an integer from 0"},
      {"job", {{"id", "a"}, {"enqueued_ms", "now"}}, ".job.enqueued_ms", "must be an integer"},
      {"job", {{"id", "a"}, {"redeliveries", 1e3}}, ".job.redeliveries", "must be an integer"},
      {"job", {{"id", "a"}, {"atempt", 1}}, ".job.atempt", R"(did you mean "attempt"?)"},
  };
  for (const auto& c : cases) {
    auto j = minimal();
    j[c.field] = c.value;
    const auto e = decode_error(j, "notifications[3]");
    EXPECT_EQ(e.path, "notifications[3]" + c.path) << c.field << " = " << c.value.dump();
    EXPECT_THAT(e.message, HasSubstr(c.message)) << c.field << " = " << c.value.dump();
  }
}

TEST(Codec, RequiredFieldsAndNonObjects) {
  auto j = minimal();
  j.erase("tokens");
  EXPECT_EQ(decode_error(j, "notifications[3]"), (FieldError{"notifications[3].tokens", "is required (or fcm_topic, condition, channel)"}));
  j = minimal();
  j.erase("platform");
  EXPECT_EQ(decode_error(j, ""), (FieldError{"platform", "is required"}));
  EXPECT_EQ(decode_error(json::array(), "notifications[3]"),
            (FieldError{"notifications[3]", "must be an object"}));
}

TEST(Codec, KeysThatAreNotWordsAreQuotedInPaths) {
  auto j = minimal();
  j["apns"] = {{"headers", {{"a.b", 1}}}};
  EXPECT_EQ(decode_error(j, "").path, R"(apns.headers["a.b"])");
  EXPECT_EQ(child_path("", "tokens"), "tokens");
  EXPECT_EQ(child_path("n[1]", "tokens"), "n[1].tokens");
  EXPECT_EQ(child_path("", "a b"), R"(["a b"])");
  EXPECT_EQ(index_path("tokens", 7), "tokens[7]");
}

TEST(Codec, JobStringHoldsOneNotificationOrAWholeBody) {
  const auto one = encode_notification(full_notification());
  const json body = {{"notifications", {one, minimal()}}};
  auto r = decode_job_string(body.dump());
  ASSERT_TRUE(std::holds_alternative<std::vector<Notification>>(r));
  const auto& list = std::get<std::vector<Notification>>(r);
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0], full_notification());
  EXPECT_EQ(list[1].tokens, std::vector<std::string>{ios_token(1)});
}

TEST(Codec, JobStringErrorsNameTheElement) {
  json body = {{"notifications", {minimal(), {{"tokens", json::array()}}}}};
  auto r = decode_job_string(body.dump());
  ASSERT_TRUE(std::holds_alternative<FieldError>(r));
  EXPECT_EQ(std::get<FieldError>(r).path, "notifications[1].platform");

  body = {{"notifications", json::array()}};
  r = decode_job_string(body.dump());
  EXPECT_EQ(std::get<FieldError>(r), (FieldError{"notifications", "must not be empty"}));

  body = {{"notifications", {minimal()}}, {"extra", 1}};
  r = decode_job_string(body.dump());
  EXPECT_EQ(std::get<FieldError>(r).path, "extra");

  r = decode_job_string(R"({"notifications": 5})");
  EXPECT_EQ(std::get<FieldError>(r), (FieldError{"notifications", "must be an array"}));
}

TEST(Codec, JsonSyntaxErrorsGiveTheByteOffset) {
  auto r = decode_job_string(R"({"platform": x})");
  ASSERT_TRUE(std::holds_alternative<FieldError>(r));
  const auto& e = std::get<FieldError>(r);
  EXPECT_EQ(e.path, "");
  EXPECT_THAT(e.message, HasSubstr("invalid JSON at byte 14: "));
  EXPECT_THAT(e.message, HasSubstr("syntax error"));
  EXPECT_THAT(e.message, ::testing::Not(HasSubstr("[json.exception")));

  r = decode_job_string("");
  EXPECT_THAT(std::get<FieldError>(r).message, HasSubstr("invalid JSON at byte"));
  r = decode_job_string("\"\xff\"");  // invalid UTF-8
  EXPECT_THAT(std::get<FieldError>(r).message, HasSubstr("invalid JSON"));
}

TEST(Codec, RejectsDeepNestingBeforeParsing) {
  const std::string deep = R"({"platform":"ios","tokens":[],"data":)" + std::string(100000, '[') +
                           std::string(100000, ']') + "}";
  auto r = parse_json(deep);
  ASSERT_TRUE(std::holds_alternative<FieldError>(r));
  EXPECT_THAT(std::get<FieldError>(r).message, HasSubstr("nested deeper than 64 levels"));

  // Brackets inside strings do not count.
  const std::string in_string = R"({"a":")" + std::string(1000, '[') + R"("})";
  EXPECT_TRUE(std::holds_alternative<json>(parse_json(in_string)));
  // 64 levels are fine.
  const std::string ok = std::string(kMaxJsonDepth, '[') + std::string(kMaxJsonDepth, ']');
  EXPECT_TRUE(std::holds_alternative<json>(parse_json(ok)));
  const std::string over = std::string(kMaxJsonDepth + 1, '[') + std::string(kMaxJsonDepth + 1, ']');
  EXPECT_TRUE(std::holds_alternative<FieldError>(parse_json(over)));
}

TEST(Codec, DumpCompactNeverThrowsOnInvalidUtf8) {
  Notification n;
  n.tokens = {"a"};
  n.title = std::string("bad \xff byte");
  std::string text;
  EXPECT_NO_THROW(text = encode_job_string(n));
  EXPECT_THAT(text, HasSubstr("bad \xef\xbf\xbd byte"));  // U+FFFD
}

TEST(Codec, UnknownFieldHintOnlyForCloseNames) {
  static constexpr std::string_view kKnown[] = {"title", "message"};
  EXPECT_EQ(unknown_field_message("mesage", kKnown), R"(unknown field "mesage" (did you mean "message"?))");
  EXPECT_EQ(unknown_field_message("colour", kKnown), R"(unknown field "colour")");
}

// Issue 13, class 1 and 2: every element that is not a Notification is a FieldError, whatever
// nlohmann would throw (out_of_range for numbers beyond double, parse_error for invalid UTF-8),
// and the message stays short and printable whatever the input.
bool is_valid_utf8(const std::string& s) {
  std::string copy;
  common::append_utf8_sanitized(copy, s, [](std::string& o, char c) { o += c; });
  return copy == s;
}

TEST(Codec, NothingThatIsNotJsonThrowsAndEveryMessageIsBoundedAndPrintable) {
  const std::string digits(100000, '7');
  const std::vector<std::string> inputs = {
      R"({"platform":"ios","tokens":["a"],"badge":1e400})",            // number overflow
      R"({"platform":"ios","tokens":["a"],"badge":-1e400})",
      R"({"platform":"ios","tokens":["a"],"badge":)" + digits + "e9999}",  // overflow with 100k digits
      R"({"platform":"ios","tokens":["a"],"title":"bad )" + std::string("\xff") + R"( byte"})",  // raw 0xFF
      "\xff\xfe{}",
      R"({"platform":"ios","tokens":["a"],"title":")" + std::string(200000, 'x') + "\xc3\"}",  // cut sequence
      std::string(R"({"platform":"ios","tokens":["a"]})") + '\0' + "garbage",  // NUL then garbage
  };
  for (const auto& input : inputs) {
    std::variant<std::vector<Notification>, FieldError> r;
    ASSERT_NO_THROW(r = decode_job_string(input)) << input.substr(0, 60);
    ASSERT_TRUE(std::holds_alternative<FieldError>(r)) << input.substr(0, 60);
    const auto& e = std::get<FieldError>(r);
    EXPECT_THAT(e.message, HasSubstr("invalid JSON"));
    EXPECT_LT(e.message.size(), 400u) << e.message.substr(0, 400);
    EXPECT_LT(e.path.size(), 200u);
    EXPECT_TRUE(is_valid_utf8(e.message)) << e.message;
    // An error body must serialise: nlohmann's dump() throws on invalid UTF-8.
    EXPECT_NO_THROW((void)json({{"error", e.message}}).dump());
  }
}

TEST(Codec, ANulByteAnywhereIsNotJson) {
  const std::string text = std::string(R"({"platform":"ios","tokens":["a"]})") + '\0' + "{}";
  auto r = parse_json(text);
  ASSERT_TRUE(std::holds_alternative<FieldError>(r));
  EXPECT_THAT(std::get<FieldError>(r).message, HasSubstr("at byte 34: a NUL byte"));
}

TEST(Codec, HugeUnknownKeysAreQuotedShortInMessageAndPath) {
  const std::string key(900 * 1024, 'k');
  json body = {{"platform", "ios"}, {"tokens", {"a"}}, {key, 1}};
  auto r = decode_notification(body, "notifications[0]");
  ASSERT_TRUE(std::holds_alternative<FieldError>(r));
  const auto& e = std::get<FieldError>(r);
  EXPECT_LT(e.message.size(), 200u);
  EXPECT_LT(e.path.size(), 200u);
  EXPECT_THAT(e.message, HasSubstr("(921600 bytes)"));
  EXPECT_THAT(e.path, ::testing::StartsWith("notifications[0][\"kkk"));
}

}  // namespace
}  // namespace pushgw::job
