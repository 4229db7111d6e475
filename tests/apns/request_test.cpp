#include "pushgw/apns/request.hpp"

#include <set>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace pushgw::apns {
namespace {

using job::OutcomeKind;
using ::testing::Contains;
using ::testing::Not;
using ::testing::Pair;

const std::string kToken(64, 'a');

job::Notification alert() {
  job::Notification n;
  n.platform = job::Platform::ios;
  n.tokens = {kToken};
  n.title = "Hello";
  n.message = "World";
  return n;
}

ApnsRequest built(const std::variant<ApnsRequest, job::SendOutcome>& result) {
  EXPECT_TRUE(std::holds_alternative<ApnsRequest>(result));
  return std::holds_alternative<ApnsRequest>(result) ? std::get<ApnsRequest>(result) : ApnsRequest{};
}

job::SendOutcome refused(const std::variant<ApnsRequest, job::SendOutcome>& result) {
  EXPECT_TRUE(std::holds_alternative<job::SendOutcome>(result));
  return std::holds_alternative<job::SendOutcome>(result) ? std::get<job::SendOutcome>(result) : job::SendOutcome{};
}

TEST(BuildApnsRequest, PostsToTheDevicePathWithPayloadHeadersAndBearer) {
  const auto request = built(build_apns_request(alert(), kToken, "com.example.app", "bearer abc.def.ghi"));
  EXPECT_EQ(request.path, "/3/device/" + kToken);
  EXPECT_EQ(request.body, build_apns_payload(alert()));
  EXPECT_THAT(request.headers, Contains(Pair("authorization", "bearer abc.def.ghi")));
  EXPECT_THAT(request.headers, Contains(Pair("apns-topic", "com.example.app")));
  EXPECT_THAT(request.headers, Contains(Pair("apns-push-type", "alert")));
  EXPECT_THAT(request.headers, Contains(Pair("apns-id", request.apns_id)));
  EXPECT_FALSE(request.topic_from_notification);
}

TEST(BuildApnsRequest, CertificateAuthSendsNoAuthorization) {
  const auto request = built(build_apns_request(alert(), kToken, "com.example.app", ""));
  for (const auto& [name, value] : request.headers) EXPECT_NE(name, "authorization");
}

TEST(BuildApnsRequest, PassThroughAuthorizationIsDroppedButApnsIdKept) {
  auto n = alert();
  n.apns = nlohmann::json{{"headers", {{"Authorization", "bearer forged"}, {"apns-id", "0f0f0f0f-0000-4000-8000-000000000000"}}}};
  const auto request = built(build_apns_request(n, kToken, "com.example.app", "bearer ours"));
  EXPECT_THAT(request.headers, Contains(Pair("authorization", "bearer ours")));
  EXPECT_THAT(request.headers, Not(Contains(Pair("authorization", "bearer forged"))));
  EXPECT_EQ(request.apns_id, "0f0f0f0f-0000-4000-8000-000000000000");
  EXPECT_EQ(std::count_if(request.headers.begin(), request.headers.end(),
                          [](const auto& h) { return h.first == "apns-id"; }),
            1);

  const auto cert_auth = built(build_apns_request(n, kToken, "com.example.app", ""));
  for (const auto& [name, value] : cert_auth.headers) EXPECT_NE(name, "authorization");
}

TEST(PrepareApnsRequest, BuildsWhatEveryTokenSharesOnceAndKeepsAFixedApnsIdApart) {
  auto n = alert();
  const auto plain = std::get<ApnsPrepared>(prepare_apns_request(n, "com.example.app", "bearer ours"));
  EXPECT_TRUE(plain.fixed_apns_id.empty());  // a new one per request
  EXPECT_THAT(plain.headers, Contains(Pair("authorization", "bearer ours")));
  EXPECT_THAT(plain.headers, Contains(Pair("apns-topic", "com.example.app")));
  for (const auto& [name, value] : plain.headers) EXPECT_NE(name, "apns-id");
  EXPECT_EQ(plain.body, built(build_apns_request(n, kToken, "com.example.app", "bearer ours")).body);

  n.apns = nlohmann::json{{"headers", {{"apns-id", "0f0f0f0f-0000-4000-8000-000000000000"}}}};
  const auto fixed = std::get<ApnsPrepared>(prepare_apns_request(n, "com.example.app", ""));
  EXPECT_EQ(fixed.fixed_apns_id, "0f0f0f0f-0000-4000-8000-000000000000");
  for (const auto& [name, value] : fixed.headers) EXPECT_NE(name, "apns-id");

  n.apns.reset();
  n.data = nlohmann::json{{"blob", std::string(5000, 'x')}};
  const auto too_big = std::get<job::SendOutcome>(prepare_apns_request(n, "com.example.app", ""));
  EXPECT_EQ(too_big.reason, "PayloadTooLarge");
}

TEST(CheckDeviceToken, RefusesEmptyAndNonHexTokensAndBuildsThePath) {
  EXPECT_EQ(check_device_token("")->reason, "MissingDeviceToken");
  EXPECT_EQ(check_device_token("zz")->kind, job::OutcomeKind::token_dead);
  EXPECT_FALSE(check_device_token(kToken).has_value());
  EXPECT_EQ(device_path("abc"), "/3/device/abc");
}

TEST(BuildApnsRequest, KnowsWhenTheNotificationChoseTheTopic) {
  auto n = alert();
  n.topic = "com.example.other";
  EXPECT_TRUE(built(build_apns_request(n, kToken, "com.example.app", "")).topic_from_notification);
  n.topic = "";
  EXPECT_FALSE(built(build_apns_request(n, kToken, "com.example.app", "")).topic_from_notification);
  n.apns = nlohmann::json{{"headers", {{"APNS-Topic", "com.example.third"}}}};
  EXPECT_TRUE(built(build_apns_request(n, kToken, "com.example.app", "")).topic_from_notification);
}

TEST(BuildApnsRequest, EmptyTokenIsRejectedAndNonHexTokenIsDeadWithoutSending) {
  auto outcome = refused(build_apns_request(alert(), "", "t", ""));
  EXPECT_EQ(outcome.kind, OutcomeKind::rejected);
  EXPECT_EQ(outcome.reason, "MissingDeviceToken");
  EXPECT_EQ(outcome.status, 0);

  for (const std::string& bad : std::vector<std::string>{"abc/../../x", "abcd?x=1", "zz" + kToken, "ab cd"}) {
    outcome = refused(build_apns_request(alert(), bad, "t", ""));
    EXPECT_EQ(outcome.kind, OutcomeKind::token_dead) << bad;
    EXPECT_EQ(outcome.reason, "BadDeviceToken");
  }
  EXPECT_TRUE(std::holds_alternative<ApnsRequest>(build_apns_request(alert(), "ABCDEF0123", "t", "")));
}

TEST(BuildApnsRequest, PayloadOverTheLimitIsRejected) {
  auto n = alert();
  n.message = std::string(4200, 'x');
  auto outcome = refused(build_apns_request(n, kToken, "t", ""));
  EXPECT_EQ(outcome.kind, OutcomeKind::rejected);
  EXPECT_EQ(outcome.reason, "PayloadTooLarge");

  n.push_type = "voip";  // 5120 bytes allowed
  EXPECT_TRUE(std::holds_alternative<ApnsRequest>(build_apns_request(n, kToken, "t", "")));
}

// xxxxxxxx-xxxx-4xxx-[89ab]xxx-xxxxxxxxxxxx, lower-case hex (std::regex is avoided: GCC 12
// reports false maybe-uninitialized warnings in it under the sanitizers).
bool is_canonical_uuid_v4(const std::string& id) {
  if (id.size() != 36) return false;
  for (std::size_t i = 0; i < id.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    const bool hex = (id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f');
    if (dash ? id[i] != '-' : !hex) return false;
  }
  return id[14] == '4' && std::string_view("89ab").find(id[19]) != std::string_view::npos;
}

TEST(PrepareApnsRequest, ABroadcastGoesToTheAppsBroadcastPath) {
  job::Notification n;
  n.target = job::Target::apns_channel;
  n.tokens = {"dHN0LXNyY2gtY2hubA=="};
  n.live_activity = nlohmann::json{{"event", "update"}, {"content_state", nlohmann::json::object()}};
  auto prepared = std::get<ApnsPrepared>(prepare_apns_request(n, "com.example.app", "bearer x"));
  EXPECT_EQ(prepared.broadcast_path, "/4/broadcasts/apps/com.example.app");
  EXPECT_EQ(broadcast_path("b"), "/4/broadcasts/apps/b");
  for (const auto& [name, value] : prepared.headers) EXPECT_NE(name, "apns-topic");
  const auto refused = std::get<job::SendOutcome>(prepare_apns_request(n, "", "bearer x"));
  EXPECT_EQ(refused.kind, job::OutcomeKind::credentials_error);
  EXPECT_EQ(refused.reason, "MissingTopic");
}

TEST(NewApnsId, RecognisesTheFormat) {
  EXPECT_TRUE(is_canonical_uuid_v4("0f0f0f0f-0000-4000-8000-000000000000"));
  EXPECT_FALSE(is_canonical_uuid_v4("0f0f0f0f-0000-1000-8000-000000000000"));  // version 1
  EXPECT_FALSE(is_canonical_uuid_v4("0f0f0f0f-0000-4000-c000-000000000000"));  // variant
  EXPECT_FALSE(is_canonical_uuid_v4("0F0F0F0F-0000-4000-8000-000000000000"));
}

TEST(NewApnsId, IsACanonicalVersion4UuidAndUnique) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    const auto id = new_apns_id();
    EXPECT_TRUE(is_canonical_uuid_v4(id)) << id;
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 1000u);
}

TEST(IsHexDeviceToken, AcceptsHexOnly) {
  EXPECT_TRUE(is_hex_device_token("0123456789abcdefABCDEF"));
  EXPECT_FALSE(is_hex_device_token(""));
  EXPECT_FALSE(is_hex_device_token("0x12"));
  EXPECT_FALSE(is_hex_device_token("12 34"));
}

}  // namespace
}  // namespace pushgw::apns
