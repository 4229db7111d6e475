// web/request: what GET /events and GET /ws ask for, message ids, Origin, and the frames written.
#include "pushgw/web/request.hpp"

#include <map>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace pushgw::web {
namespace {

using ::testing::HasSubstr;

// ---- message ids ----

TEST(StreamId, ParsesRedisStreamIds) {
  EXPECT_EQ(parse_stream_id("1700000000000-0"), (StreamId{1700000000000, 0}));
  EXPECT_EQ(parse_stream_id("0-0"), (StreamId{0, 0}));
  EXPECT_EQ(parse_stream_id("18446744073709551615-18446744073709551615"),
            (StreamId{UINT64_MAX, UINT64_MAX}));
}

TEST(StreamId, RefusesAnythingElse) {
  for (const std::string bad : {"", "-", "1", "1-", "-1", "1-2-3", "+1-2", "1-+2", "-1-2", "1--2", " 1-2", "1-2 ",
                                "a-b", "1.5-2", "0x1-2", "18446744073709551616-0", "1-18446744073709551616",
                                "1700000000000"}) {
    EXPECT_EQ(parse_stream_id(bad), std::nullopt) << bad;
  }
}

TEST(StreamId, OrdersByMillisecondsThenSequenceAndPrints) {
  EXPECT_LT((StreamId{1, 5}), (StreamId{2, 0}));
  EXPECT_LT((StreamId{1, 5}), (StreamId{1, 6}));
  EXPECT_GT((StreamId{10, 0}), (StreamId{9, 999}));
  EXPECT_EQ((StreamId{3, 4}), (StreamId{3, 4}));
  EXPECT_EQ((StreamId{1700000000000, 7}).to_string(), "1700000000000-7");
  const StreamId max{UINT64_MAX, UINT64_MAX};
  EXPECT_EQ(parse_stream_id(max.to_string()), max);
}

// ---- the opening request ----

Opening open_ok(std::string_view target, OpeningHeaders headers = {}, Resume resume = Resume::sse) {
  Opening o = parse_opening(target, headers, resume);
  EXPECT_TRUE(o.ok()) << target << " → " << o.status << " " << o.message;
  return o;
}

TEST(Opening, TokenFromTheBearerHeader) {
  OpeningHeaders h;
  h.authorization = "Bearer aaa.bbb.ccc";
  EXPECT_EQ(open_ok("/events", h).token, "aaa.bbb.ccc");
  h.authorization = "bearer   aaa.bbb.ccc  ";  // the scheme in any case, spaces around
  EXPECT_EQ(open_ok("/events", h).token, "aaa.bbb.ccc");
  h.authorization = "BEARER\taaa.bbb.ccc";
  EXPECT_EQ(open_ok("/events", h).token, "aaa.bbb.ccc");
}

TEST(Opening, TheHeaderWinsOverTheParameter) {
  OpeningHeaders h;
  h.authorization = "Bearer from.the.header";
  EXPECT_EQ(open_ok("/events?token=from.the.query", h).token, "from.the.header");
}

TEST(Opening, TokenFromTheParameterWhenNoBearerHeader) {
  EXPECT_EQ(open_ok("/events?token=aaa.bbb.ccc").token, "aaa.bbb.ccc");
  EXPECT_EQ(open_ok("/ws?channels=a&token=aaa.bbb.ccc", {}, Resume::ws).token, "aaa.bbb.ccc");
  EXPECT_EQ(open_ok("/events?token=aaa%2Ebbb.ccc").token, "aaa.bbb.ccc");  // percent-decoded
  // Another scheme is not ours (a proxy's Basic credentials): the parameter is used.
  OpeningHeaders h;
  h.authorization = "Basic dXNlcjpwYXNz";
  EXPECT_EQ(open_ok("/events?token=aaa.bbb.ccc", h).token, "aaa.bbb.ccc");
  h.authorization = "Bearerish aaa.bbb.ccc";
  EXPECT_EQ(open_ok("/events?token=x.y.z", h).token, "x.y.z");
}

TEST(Opening, NoTokenIs401) {
  for (const std::string target : {"/events", "/events?channels=a", "/events?token=", "/events?tokens=a.b.c"}) {
    const Opening o = parse_opening(target, {}, Resume::sse);
    EXPECT_EQ(o.status, 401) << target;
    EXPECT_THAT(o.message, HasSubstr("Bearer")) << target;
  }
  OpeningHeaders h;
  h.authorization = "Bearer";
  EXPECT_EQ(parse_opening("/events?token=a.b.c", h, Resume::sse).status, 401);  // an empty Bearer is not skipped
  h.authorization = "Basic dXNlcjpwYXNz";
  EXPECT_EQ(parse_opening("/events", h, Resume::sse).status, 401);
}

TEST(Opening, ChannelsParameterDecodedAndOptional) {
  EXPECT_EQ(open_ok("/events?token=t").channels, std::nullopt);
  EXPECT_EQ(open_ok("/events?token=t&channels=").channels, std::string());
  EXPECT_EQ(open_ok("/events?token=t&channels=user:42,room:ops").channels, "user:42,room:ops");
  EXPECT_EQ(open_ok("/events?channels=user%3A42%2Croom%3Aops&token=t").channels, "user:42,room:ops");
}

TEST(Opening, AQueryThatDoesNotDecodeIs400) {
  // Not taken for an absent parameter, which would mean "every channel".
  const Opening o = parse_opening("/events?token=t&channels=a%zz", {}, Resume::sse);
  EXPECT_EQ(o.status, 400);
  EXPECT_THAT(o.message, HasSubstr("percent-encoding"));
}

TEST(Opening, SseResumesFromTheHeaderThenTheParameter) {
  EXPECT_EQ(open_ok("/events?token=t").resume, std::nullopt);
  EXPECT_EQ(open_ok("/events?token=t&last_event_id=5-1").resume, (StreamId{5, 1}));
  OpeningHeaders h;
  h.last_event_id = "7-2";
  EXPECT_EQ(open_ok("/events?token=t", h).resume, (StreamId{7, 2}));
  EXPECT_EQ(open_ok("/events?token=t&last_event_id=5-1", h).resume, (StreamId{7, 2}));
  // An empty header is no id (EventSource sends none until it saw one).
  h.last_event_id = "";
  EXPECT_EQ(open_ok("/events?token=t&last_event_id=5-1", h).resume, (StreamId{5, 1}));
  EXPECT_EQ(open_ok("/events?token=t&last_event_id=", h).resume, std::nullopt);
  // last_id is the WebSocket's.
  EXPECT_EQ(open_ok("/events?token=t&last_id=5-1").resume, std::nullopt);
}

TEST(Opening, WebSocketResumesFromLastIdOnly) {
  OpeningHeaders h;
  h.last_event_id = "7-2";
  EXPECT_EQ(open_ok("/ws?token=t", h, Resume::ws).resume, std::nullopt);
  EXPECT_EQ(open_ok("/ws?token=t&last_id=9-0", h, Resume::ws).resume, (StreamId{9, 0}));
  EXPECT_EQ(open_ok("/ws?token=t&last_event_id=9-0", {}, Resume::ws).resume, std::nullopt);
}

TEST(Opening, AMalformedResumeIdIs400NamingWhereItCameFrom) {
  OpeningHeaders h;
  h.last_event_id = "yesterday";
  Opening o = parse_opening("/events?token=t", h, Resume::sse);
  EXPECT_EQ(o.status, 400);
  EXPECT_THAT(o.message, HasSubstr("Last-Event-ID \"yesterday\""));
  o = parse_opening("/events?token=t&last_event_id=12", {}, Resume::sse);
  EXPECT_EQ(o.status, 400);
  EXPECT_THAT(o.message, HasSubstr("last_event_id \"12\""));
  o = parse_opening("/ws?token=t&last_id=1-x", {}, Resume::ws);
  EXPECT_EQ(o.status, 400);
  EXPECT_THAT(o.message, HasSubstr("last_id \"1-x\""));
  // A long id is cut in the message.
  o = parse_opening("/ws?token=t&last_id=" + std::string(5000, '9'), {}, Resume::ws);
  EXPECT_EQ(o.status, 400);
  EXPECT_LT(o.message.size(), 200u);
}

// What the server hands over: http::Request's target and header(lower-case name).
struct FakeRequest {
  std::string target;
  std::map<std::string, std::string, std::less<>> headers;
  std::optional<std::string_view> header(std::string_view name) const {
    const auto it = headers.find(name);
    if (it == headers.end()) return std::nullopt;
    return it->second;
  }
};

TEST(Opening, ReadsAServerRequest) {
  const FakeRequest request{"/events?channels=a", {{"authorization", "Bearer x.y.z"}, {"last-event-id", "3-4"}}};
  Opening o = parse_opening(request, Resume::sse);
  ASSERT_TRUE(o.ok()) << o.message;
  EXPECT_EQ(o.token, "x.y.z");
  EXPECT_EQ(o.channels, "a");
  EXPECT_EQ(o.resume, (StreamId{3, 4}));
  o = parse_opening(request, Resume::ws);  // Last-Event-ID is not the WebSocket's
  ASSERT_TRUE(o.ok()) << o.message;
  EXPECT_EQ(o.resume, std::nullopt);
}

// ---- Origin ----

TEST(Origin, AnyWhenNoneConfigured) {
  EXPECT_TRUE(origin_allowed("https://app.example.com", {}));
  EXPECT_TRUE(origin_allowed("null", {}));
}

TEST(Origin, ElseAnExactMatch) {
  const std::vector<std::string> allowed{"https://app.example.com", "http://localhost:8080"};
  EXPECT_TRUE(origin_allowed("https://app.example.com", allowed));
  EXPECT_TRUE(origin_allowed("http://localhost:8080", allowed));
  EXPECT_TRUE(origin_allowed("https://APP.Example.com", allowed));  // host names have no case

  EXPECT_FALSE(origin_allowed("http://app.example.com", allowed));        // scheme
  EXPECT_FALSE(origin_allowed("https://app.example.com:8443", allowed));  // port
  EXPECT_FALSE(origin_allowed("http://localhost", allowed));
  EXPECT_FALSE(origin_allowed("http://localhost:80800", allowed));
  EXPECT_FALSE(origin_allowed("https://app.example.com.evil.test", allowed));  // no prefix match
  EXPECT_FALSE(origin_allowed("https://evil.test/https://app.example.com", allowed));
  EXPECT_FALSE(origin_allowed("https://example.com", allowed));
  EXPECT_FALSE(origin_allowed("null", allowed));  // sandboxed frames and file: pages
  EXPECT_FALSE(origin_allowed("", allowed));
}

// ---- frames ----

TEST(Sse, AMessageHasIdEventAndData) {
  EXPECT_EQ(sse_message("1700000000000-0", "notification", R"({"id":"1700000000000-0"})"),
            "id: 1700000000000-0\nevent: notification\ndata: {\"id\":\"1700000000000-0\"}\n\n");
}

TEST(Sse, EachLineOfDataIsADataLine) {
  EXPECT_EQ(sse_message("1-0", "notification", "a\nb"), "id: 1-0\nevent: notification\ndata: a\ndata: b\n\n");
  EXPECT_EQ(sse_message("1-0", "notification", "a\r\nb\rc"),
            "id: 1-0\nevent: notification\ndata: a\ndata: b\ndata: c\n\n");
  // A trailing line break is kept: EventSource joins the lines with "\n".
  EXPECT_EQ(sse_message("1-0", "e", "a\n"), "id: 1-0\nevent: e\ndata: a\ndata: \n\n");
  EXPECT_EQ(sse_message("1-0", "e", "a\n\nb"), "id: 1-0\nevent: e\ndata: a\ndata: \ndata: b\n\n");
  EXPECT_EQ(sse_message("1-0", "e", ""), "id: 1-0\nevent: e\ndata: \n\n");
  // A leading space survives: EventSource removes only the one after the colon.
  EXPECT_EQ(sse_message("1-0", "e", " x"), "id: 1-0\nevent: e\ndata:  x\n\n");
}

TEST(Sse, IdAndEventCannotStartFieldsOfTheirOwn) {
  EXPECT_EQ(sse_message("1-0\ndata: evil", "e\r\nretry: 1", "x"), "id: 1-0data: evil\nevent: eretry: 1\ndata: x\n\n");
  EXPECT_EQ(sse_message("", "", "x"), "data: x\n\n");
}

TEST(Sse, CommentsAndRetry) {
  EXPECT_EQ(sse_comment("ping"), ": ping\n\n");
  EXPECT_EQ(sse_comment("a\nb"), ": a\n: b\n\n");
  EXPECT_EQ(sse_retry(2000), "retry: 2000\n\n");
  EXPECT_EQ(sse_retry(0), "retry: 0\n\n");
}

TEST(MessageJson, HoldsIdChannelAndTheNotificationAsSent) {
  const std::string notification = R"({"title":"Hi", "message":"b\u00e9", "data":{"z":1,"a":2}})";
  const std::string text = message_json("1700000000000-3", "user:42", notification);
  // Inserted byte for byte: spacing, escapes and key order as pushgw wrote them.
  EXPECT_EQ(text, R"({"id":"1700000000000-3","channel":"user:42","notification":)" + notification + "}");
  const auto j = nlohmann::json::parse(text);
  EXPECT_EQ(j["id"], "1700000000000-3");
  EXPECT_EQ(j["channel"], "user:42");
  EXPECT_EQ(j["notification"]["data"]["a"], 2);
}

TEST(MessageJson, EscapesIdAndChannel) {
  const auto j = nlohmann::json::parse(message_json("a\"b", "c\\d\n", "{}"));
  EXPECT_EQ(j["id"], "a\"b");
  EXPECT_EQ(j["channel"], "c\\d\n");
  EXPECT_EQ(message_json("1-0", "c", ""), R"({"id":"1-0","channel":"c","notification":null})");
}

}  // namespace
}  // namespace pushgw::web
