#include "pushgw/sim/apns.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <set>

#include "pushgw/sim/stats.hpp"
#include "sim/tls_fixture.hpp"

namespace pushgw::sim::apns {
namespace {

const std::string good_token(64, 'a');

// A request APNs accepts; tests break one thing at a time.
Request good_request(const std::string& token = good_token) {
  Request request;
  request.set_method("POST");
  request.set_path(std::string(path_prefix) + token);
  request.add_header("apns-topic", "com.example.app");
  request.add_header("apns-push-type", "alert");
  request.add_header("apns-priority", "10");
  request.add_header("apns-expiration", "1700000000");
  request.add_header("apns-collapse-id", "c1");
  request.add_header("apns-id", "123e4567-e89b-12d3-a456-426614174000");
  request.append_body(R"({"aps":{"alert":"hi"}})", 65536);
  return request;
}

// The good request with one header replaced; the value "\x01" removes it instead.
Request with_header(std::string_view name, std::string_view value) {
  Request base = good_request();
  Request request;
  request.set_method(base.method());
  request.set_path(base.path());
  for (const std::string_view header : {"apns-topic", "apns-push-type", "apns-priority",
                                        "apns-expiration", "apns-collapse-id", "apns-id"}) {
    if (header == name) {
      if (value != "\x01") request.add_header(header, value);
    } else {
      request.add_header(header, base.header(header));
    }
  }
  request.append_body(base.body(), 65536);
  return request;
}

Request with_body(std::string_view body, std::string_view push_type = "alert",
                  std::string_view topic = "com.example.app") {
  Request request = with_header("apns-push-type", push_type);
  Request copy;
  copy.set_method(request.method());
  copy.set_path(request.path());
  copy.add_header("apns-topic", topic);
  for (const std::string_view header : {"apns-push-type", "apns-priority"}) {
    copy.add_header(header, request.header(header));
  }
  copy.append_body(body, 65536);
  return copy;
}

std::string_view reason(const Request& request) {
  return check_request(request, nullptr, true, 0).reason;
}

TEST(SimApnsCheck, AcceptsAFullyFormedRequest) {
  const Verdict verdict = check_request(good_request(), nullptr, true, 0);
  EXPECT_EQ(verdict.status, 200);
  EXPECT_EQ(verdict.reason, "");
  EXPECT_TRUE(verdict.authorized);
}

TEST(SimApnsCheck, RejectsEachBadHeaderWithItsReason) {
  const std::string removed = "\x01";
  EXPECT_EQ(reason(with_header("apns-topic", removed)), "MissingTopic");
  EXPECT_EQ(reason(with_header("apns-push-type", "banner")), "InvalidPushType");
  EXPECT_EQ(reason(with_header("apns-priority", "7")), "BadPriority");
  EXPECT_EQ(reason(with_header("apns-expiration", "tomorrow")), "BadExpirationDate");
  EXPECT_EQ(reason(with_header("apns-collapse-id", std::string(65, 'c'))), "BadCollapseId");
  EXPECT_EQ(reason(with_header("apns-id", "not-a-uuid")), "BadMessageId");
  // Optional headers may be left out.
  EXPECT_EQ(reason(with_header("apns-push-type", removed)), "");
  EXPECT_EQ(reason(with_header("apns-priority", "5")), "");
  EXPECT_EQ(reason(with_header("apns-collapse-id", std::string(64, 'c'))), "");
  Request twice = good_request();
  twice.add_header("apns-topic", "other");
  EXPECT_EQ(reason(twice), "DuplicateHeaders");
}

TEST(SimApnsCheck, RejectsBadDeviceTokens) {
  EXPECT_EQ(reason(good_request("")), "MissingDeviceToken");
  EXPECT_EQ(check_request(good_request(""), nullptr, true, 0).status, 400);
  EXPECT_EQ(reason(good_request(std::string(63, 'a'))), "BadDeviceToken");
  EXPECT_EQ(reason(good_request(std::string(64, 'g'))), "BadDeviceToken");
  EXPECT_EQ(reason(good_request(std::string(65, 'a'))), "BadDeviceToken");
  EXPECT_EQ(reason(good_request(std::string(202, 'a'))), "BadDeviceToken");
  EXPECT_EQ(reason(good_request(std::string(100, 'F'))), "");
}

TEST(SimApnsCheck, RejectsBadPayloads) {
  EXPECT_EQ(reason(with_body("")), "PayloadEmpty");
  EXPECT_EQ(reason(with_body("{not json")), "BadPayload");
  EXPECT_EQ(reason(with_body("[1]")), "BadPayload");
  EXPECT_EQ(reason(with_body(R"({"data":1})")), "BadPayload");
  EXPECT_EQ(reason(with_body(R"({"aps":"x"})")), "BadPayload");
  const std::string big = R"({"aps":{},"x":")" + std::string(4096, 'x') + "\"}";
  const Verdict too_large = check_request(with_body(big), nullptr, true, 0);
  EXPECT_EQ(too_large.status, 413);
  EXPECT_EQ(too_large.reason, "PayloadTooLarge");
  const std::string voip = R"({"aps":{},"x":")" + std::string(4500, 'x') + "\"}";
  EXPECT_EQ(reason(with_body(voip, "voip", "com.example.app.voip")), "");
}

TEST(SimApnsCheck, EachPushTypeNeedsItsTopicAndPriority) {
  EXPECT_EQ(push_type_problem("alert", "com.example.app", "10"), "");
  EXPECT_EQ(push_type_problem("background", "com.example.app", "5"), "");
  EXPECT_EQ(push_type_problem("background", "com.example.app", "10"), "BadPriority");
  EXPECT_EQ(push_type_problem("background", "com.example.app", ""), "BadPriority") << "absent means 10";
  EXPECT_EQ(push_type_problem("voip", "com.example.app", "10"), "TopicDisallowed");
  EXPECT_EQ(push_type_problem("voip", "com.example.app.voip", "10"), "");
  EXPECT_EQ(push_type_problem("liveactivity", "com.example.app.push-type.liveactivity", "1"), "BadPriority");
  EXPECT_EQ(push_type_problem("liveactivity", "com.example.app.push-type.liveactivity", "5"), "");
  EXPECT_EQ(push_type_problem("pushtotalk", "com.example.app.voip-ptt", "5"), "BadPriority");
  EXPECT_EQ(push_type_problem("widgets", "com.example.app.push-type.widgets", "10"), "");
  EXPECT_EQ(push_type_problem("mdm", "com.example.app", "10"), "TopicDisallowed");
  EXPECT_EQ(push_type_problem("mdm", "com.apple.mgmt.External.0f1e", "10"), "");
  EXPECT_EQ(reason(with_header("apns-push-type", "voip")), "TopicDisallowed");
}

TEST(SimApnsCheck, LiveActivityPayloadsAsActivityKitNeedsThem) {
  const auto problem = [](const char* payload, bool broadcast = false) {
    return std::string(live_activity_problem(nlohmann::json::parse(payload), broadcast));
  };
  EXPECT_EQ(problem(R"({"aps":{"event":"update","timestamp":1,"content-state":{}}})"), "");
  EXPECT_EQ(problem(R"({"aps":{"event":"end","timestamp":1,"dismissal-date":2}})"), "");
  EXPECT_EQ(problem(R"({"aps":{"event":"start","timestamp":1,"content-state":{},"attributes-type":"A",
                      "attributes":{},"alert":{"title":"t"}}})"), "");
  EXPECT_NE(problem(R"({"aps":{"event":"start","timestamp":1,"content-state":{},"attributes-type":"A",
                      "attributes":{},"alert":{"title":"t"}}})", true), "");
  EXPECT_NE(problem(R"({"aps":{"event":"start","timestamp":1,"content-state":{},"attributes":{},"alert":"t"}})"), "");
  EXPECT_NE(problem(R"({"aps":{"event":"start","timestamp":1,"content-state":{},"attributes-type":"A","attributes":{}}})"), "");
  EXPECT_NE(problem(R"({"aps":{"event":"update","content-state":{}}})"), "");
  EXPECT_NE(problem(R"({"aps":{"event":"update","timestamp":1}})"), "");
  EXPECT_NE(problem(R"({"aps":{"event":"pause","timestamp":1,"content-state":{}}})"), "");
  EXPECT_NE(problem(R"({"aps":{"event":"update","timestamp":1,"content-state":{},"dismissal-date":2}})"), "");
  const std::string topic = "com.example.app.push-type.liveactivity";
  EXPECT_EQ(reason(with_body(R"({"aps":{"event":"update","content-state":{}}})", "liveactivity")), "TopicDisallowed");
  EXPECT_EQ(reason(with_body(R"({"aps":{"event":"update","content-state":{}}})", "liveactivity", topic)), "BadPayload");
  EXPECT_EQ(reason(with_body(R"({"aps":{"event":"update","timestamp":1,"content-state":{}}})", "liveactivity", topic)), "");
  EXPECT_EQ(reason(with_body(R"({"aps":{}})", "widgets", "com.example.app.push-type.widgets")), "BadPayload");
  EXPECT_EQ(reason(with_body(R"({"aps":{"content-changed":true}})", "widgets", "com.example.app.push-type.widgets")), "");
}

TEST(SimApnsCheck, ChecksTheProviderToken) {
  testing::TestPki pki;
  const auto verifier = ProviderTokenVerifier::from_pem(pki.apns_key_pem, "K", "T", nullptr);
  ASSERT_NE(verifier, nullptr);
  const std::int64_t now = testing::unix_now();

  Request missing = good_request();
  EXPECT_EQ(check_request(missing, verifier.get(), false, now).status, 403);
  EXPECT_EQ(check_request(missing, verifier.get(), false, now).reason, "MissingProviderToken");
  EXPECT_FALSE(check_request(missing, verifier.get(), false, now).authorized);
  EXPECT_TRUE(check_request(missing, verifier.get(), true, now).authorized);  // --no-auth

  Request valid = good_request();
  valid.add_header("authorization", "bearer " + testing::sign_provider_token(pki.apns_key_pem, "K", "T", now));
  EXPECT_EQ(check_request(valid, verifier.get(), false, now).status, 200);

  Request old = good_request();
  old.add_header("authorization",
                 "bearer " + testing::sign_provider_token(pki.apns_key_pem, "K", "T", now - 7200));
  EXPECT_EQ(check_request(old, verifier.get(), false, now).reason, "ExpiredProviderToken");

  Request wrong_kid = good_request();
  wrong_kid.add_header("authorization",
                       "bearer " + testing::sign_provider_token(pki.apns_key_pem, "X", "T", now));
  EXPECT_EQ(check_request(wrong_kid, verifier.get(), false, now).reason, "InvalidProviderToken");
}

TEST(SimApnsTokens, OutcomePrefixesAreValidTokensAndDistinct) {
  std::set<std::string_view> prefixes;
  for (const auto& outcome : token_outcomes()) {
    EXPECT_TRUE(prefixes.insert(outcome.prefix).second) << outcome.prefix;
    EXPECT_TRUE(valid_device_token(std::string(outcome.prefix) + std::string(60, '0')));
  }
  ASSERT_NE(outcome_for_token("0410" + std::string(60, '0')), nullptr);
  EXPECT_EQ(outcome_for_token("0410" + std::string(60, '0'))->status, 410);
  EXPECT_TRUE(outcome_for_token("0408" + std::string(60, '0'))->no_answer);
  EXPECT_EQ(outcome_for_token(std::string(64, 'a')), nullptr);
}

TEST(SimApnsTokens, PushTypesAndUuids) {
  EXPECT_TRUE(valid_push_type("alert"));
  EXPECT_TRUE(valid_push_type("liveactivity"));
  EXPECT_FALSE(valid_push_type("Alert"));
  EXPECT_FALSE(valid_push_type(""));
  const std::string uuid = make_uuid();
  EXPECT_TRUE(valid_uuid(uuid)) << uuid;
  EXPECT_EQ(uuid[14], '4');
  EXPECT_NE(make_uuid(), uuid);
  EXPECT_FALSE(valid_uuid("123e4567e89b12d3a456426614174000"));
}

class SimApnsService : public ::testing::Test {
 protected:
  Response handle(const Request& request) {
    Response response;
    service_.handle(request, response, context_);
    return response;
  }
  static std::string header(const Response& response, std::string_view name) {
    for (const auto& [key, value] : response.headers) {
      if (key == name) return value;
    }
    return "";
  }
  static BehaviourValues without_auth() {
    BehaviourValues values;
    values.no_auth = true;
    return values;
  }
  Behaviour behaviour_{without_auth()};
  Service service_{nullptr, behaviour_};
  ConnectionContext context_;
};

TEST_F(SimApnsService, DeliversAndEchoesTheApnsId) {
  const Response response = handle(good_request());
  EXPECT_EQ(response.status, 200);
  EXPECT_TRUE(response.body.empty());
  EXPECT_TRUE(response.delivered);
  EXPECT_EQ(response.delivery_key, delivery_key(good_token, R"({"aps":{"alert":"hi"}})"));
  EXPECT_EQ(header(response, "apns-id"), "123e4567-e89b-12d3-a456-426614174000");
  EXPECT_TRUE(context_.authorized);
  // Without apns-id, one is made up.
  EXPECT_TRUE(valid_uuid(header(handle(with_header("apns-id", "\x01")), "apns-id")));
}

TEST_F(SimApnsService, TokenPrefixesSelectOutcomes) {
  const Response gone = handle(good_request("0410" + std::string(60, 'a')));
  EXPECT_EQ(gone.status, 410);
  const auto body = nlohmann::json::parse(gone.body);
  EXPECT_EQ(body["reason"], "Unregistered");
  EXPECT_GT(body["timestamp"].get<std::int64_t>(), 1'600'000'000'000);
  EXPECT_FALSE(gone.delivered);

  const Response throttled = handle(good_request("0429" + std::string(60, 'a')));
  EXPECT_EQ(throttled.status, 429);
  EXPECT_EQ(header(throttled, "retry-after"), "1");

  EXPECT_TRUE(handle(good_request("0408" + std::string(60, 'a'))).no_answer);
  EXPECT_EQ(nlohmann::json::parse(handle(good_request("0403" + std::string(60, 'a'))).body)["reason"],
            "DeviceTokenNotForTopic");
}

TEST_F(SimApnsService, ForcedStatusAndErrorRate) {
  ASSERT_TRUE(behaviour_.apply_json(R"({"force_status": 503})", nullptr));
  Response forced = handle(good_request());
  EXPECT_EQ(forced.status, 503);
  EXPECT_EQ(forced.reason, "ServiceUnavailable");
  EXPECT_FALSE(forced.delivered);

  ASSERT_TRUE(behaviour_.apply_json(R"({"force_status": 500, "force_reason": "Boom"})", nullptr));
  EXPECT_EQ(nlohmann::json::parse(handle(good_request()).body)["reason"], "Boom");

  ASSERT_TRUE(behaviour_.apply_json(R"({"force_status": null, "error_rate": 1.0})", nullptr));
  EXPECT_EQ(handle(good_request()).status, 503);

  ASSERT_TRUE(behaviour_.apply_json(R"({"error_rate": 0})", nullptr));
  EXPECT_EQ(handle(good_request()).status, 200);
}

TEST_F(SimApnsService, InvalidRequestsAreRejectedEvenWhenAStatusIsForced) {
  ASSERT_TRUE(behaviour_.apply_json(R"({"force_status": 200})", nullptr));
  const Response response = handle(with_header("apns-priority", "3"));
  EXPECT_EQ(response.status, 400);
  EXPECT_EQ(response.reason, "BadPriority");
}

}  // namespace
}  // namespace pushgw::sim::apns
