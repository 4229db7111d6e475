#include "pushgw/sim/fcm.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "pushgw/sim/stats.hpp"
#include "sim/tls_fixture.hpp"

namespace pushgw::sim::fcm {
namespace {

using nlohmann::json;
constexpr std::int64_t now = 1'700'000'000;

TEST(SimFcmPath, ProjectOfASendPath) {
  EXPECT_EQ(project_of("/v1/projects/demo/messages:send"), "demo");
  EXPECT_EQ(project_of("/v1/projects//messages:send"), "");
  EXPECT_EQ(project_of("/v1/projects/a/b/messages:send"), "");
  EXPECT_EQ(project_of("/v1/projects/demo/messages"), "");
  EXPECT_EQ(project_of("/3/device/x"), "");
}

TEST(SimFcmMessage, AcceptsWellFormedMessages) {
  std::string target;
  EXPECT_EQ(check_message(R"({"message":{"token":"t1","notification":{"title":"hi"},
      "data":{"k":"v"},"android":{"priority":"high","ttl":"3600s"},
      "apns":{"headers":{"apns-priority":"10"},"payload":{"aps":{}}}}})", &target), "");
  EXPECT_EQ(target, "t1");
  EXPECT_EQ(check_message(R"({"message":{"topic":"news"},"validate_only":false})", &target), "");
  EXPECT_EQ(target, "news");
  EXPECT_EQ(check_message(R"({"message":{"condition":"'a' in topics","android":{"ttl":"1.5s"}}})", &target), "");
}

TEST(SimFcmMessage, RejectsWhatFcmRejects) {
  const auto rejects = [](std::string_view body, std::string_view expected) {
    std::string target;
    const std::string problem = check_message(body, &target);
    EXPECT_NE(problem.find(expected), std::string::npos) << body << " → " << problem;
  };
  rejects("nope", "Invalid JSON payload");
  rejects(R"({"token":"t"})", "\"message\" must be an object");
  rejects(R"({"message":{"token":"t"},"extra":1})", "Unknown name \"extra\"");
  rejects(R"({"message":{"token":"t","badge":1}})", "Unknown name \"badge\" at 'message'");
  rejects(R"({"message":{}})", "Exactly one of");
  rejects(R"({"message":{"token":"t","topic":"x"}})", "Exactly one of");
  rejects(R"({"message":{"token":""}})", "message.token must be a non-empty string");
  rejects(R"({"message":{"token":"t","data":{"n":1}}})", "message.data");
  rejects(R"({"message":{"token":"t","android":{"priority":"urgent"}}})", "message.android.priority");
  rejects(R"({"message":{"token":"t","android":{"ttl":3600}}})", "message.android.ttl");
  rejects(R"({"message":{"token":"t","android":{"ttl":"1h"}}})", "message.android.ttl");
  rejects(R"({"message":{"token":"t","apns":{"headers":{"apns-priority":10}}}})", "message.apns.headers");
}

TEST(SimFcmMessage, TopicsAndConditionsAsFcmChecksThem) {
  std::string target;
  const auto ok = [&](std::string_view message) {
    EXPECT_EQ(check_message(R"({"message":)" + std::string(message) + "}", &target), "") << message;
  };
  const auto rejects = [&](std::string_view message, std::string_view expected) {
    const std::string problem = check_message(R"({"message":)" + std::string(message) + "}", &target);
    EXPECT_NE(problem.find(expected), std::string::npos) << message << " → " << problem;
  };
  ok(R"j({"topic":"a-b_c.d~e%20"})j");
  ok(R"j({"condition":"!('a' in topics) && ('b' in topics || 'c' in topics)"})j");
  ok(R"j({"condition":"'a' in topics&&'b' in topics||'c' in topics&&'d' in topics||'e' in topics"})j");
  rejects(R"j({"topic":"/topics/news"})j", "without the /topics/ prefix");
  rejects(R"j({"topic":"a b"})j", "Invalid value at 'message.topic'");
  rejects(R"j({"condition":"'a' in topics && "})j", "Invalid condition");
  rejects(R"j({"condition":"('a' in topics"})j", "Invalid condition");
  rejects(R"j({"condition":"'a' in topics & 'b' in topics"})j", "Invalid condition");
  rejects(R"j({"condition":"'a b' in topics"})j", "Invalid topic");
  rejects(R"j({"condition":"'a' in topics || 'b' in topics || 'c' in topics || 'd' in topics || 'e' in topics || 'f' in topics"})j",
          "at most 5");
  // Topic messages carry at most 2048 bytes; token messages 4096.
  const std::string data = R"("data":{"pad":")" + std::string(2100, 'p') + "\"}";
  ok(R"({"token":"t",)" + data + "}");
  rejects(R"({"topic":"news",)" + data + "}", "over 2048");
}

TEST(SimFcmErrors, BodyHasTheFcmShape) {
  const auto body = json::parse(error_body({404, "NOT_FOUND", "UNREGISTERED", "gone"}));
  EXPECT_EQ(body["error"]["code"], 404);
  EXPECT_EQ(body["error"]["status"], "NOT_FOUND");
  EXPECT_EQ(body["error"]["message"], "gone");
  EXPECT_EQ(body["error"]["details"][0]["@type"], "type.googleapis.com/google.firebase.fcm.v1.FcmError");
  EXPECT_EQ(body["error"]["details"][0]["errorCode"], "UNREGISTERED");
  EXPECT_FALSE(json::parse(error_body({401, "UNAUTHENTICATED", "", "x"}))["error"].contains("details"));
}

class SimFcmService : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto account = oauth::load_service_account(pki_.fcm_service_account_file, nullptr);
    ASSERT_TRUE(account);
    issuer_ = oauth::TokenIssuer::create(*account, nullptr);
    ASSERT_NE(issuer_, nullptr);
    Request token_request;
    token_request.append_body("grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=" +
                                  testing::sign_oauth_assertion(pki_, now), 65536);
    Response response;
    issuer_->handle(token_request, response, now);
    ASSERT_EQ(response.status, 200) << response.body;
    access_token_ = json::parse(response.body)["access_token"];
    service_ = std::make_unique<Service>(*issuer_, behaviour_);
  }

  Request send(const std::string& target, const std::string& project = "demo-project",
               const std::string& authorization = "") {
    Request request;
    request.set_method("POST");
    request.set_path("/v1/projects/" + project + "/messages:send");
    request.add_header("authorization", authorization.empty() ? "Bearer " + access_token_ : authorization);
    request.append_body(R"({"message":{"token":")" + target + R"(","notification":{"title":"hi"}}})", 65536);
    return request;
  }
  Response handle(const Request& request) {
    Response response;
    service_->handle(request, response, context_, now);
    return response;
  }
  static std::string error_code(const Response& response) {
    const auto body = json::parse(response.body);
    return body["error"].contains("details") ? body["error"]["details"][0]["errorCode"] : "";
  }

  testing::TestPki pki_;
  std::unique_ptr<oauth::TokenIssuer> issuer_;
  std::string access_token_;
  Behaviour behaviour_;
  std::unique_ptr<Service> service_;
  ConnectionContext context_;
};

TEST_F(SimFcmService, DeliversWithAMessageName) {
  const Response response = handle(send("device-token-1"));
  ASSERT_EQ(response.status, 200) << response.body;
  const std::string name = json::parse(response.body)["name"];
  EXPECT_EQ(name.rfind("projects/demo-project/messages/", 0), 0u) << name;
  EXPECT_TRUE(response.delivered);
  EXPECT_TRUE(context_.authorized);
}

TEST_F(SimFcmService, RequiresAnIssuedBearerTokenAndTheRightProject) {
  const Response anonymous = handle(send("t", "demo-project", "Bearer ya29.forged"));
  EXPECT_EQ(anonymous.status, 401);
  EXPECT_EQ(json::parse(anonymous.body)["error"]["status"], "UNAUTHENTICATED");
  EXPECT_EQ(anonymous.reason, "UNAUTHENTICATED");
  EXPECT_EQ(handle(send("t", "demo-project", "Basic abc")).status, 401);
  const Response other_project = handle(send("t", "someone-else"));
  EXPECT_EQ(other_project.status, 403);
  EXPECT_EQ(json::parse(other_project.body)["error"]["status"], "PERMISSION_DENIED");
}

TEST_F(SimFcmService, TokenPrefixesSelectOutcomes) {
  const Response gone = handle(send("unregistered-1"));
  EXPECT_EQ(gone.status, 404);
  EXPECT_EQ(error_code(gone), "UNREGISTERED");
  EXPECT_EQ(gone.reason, "UNREGISTERED");
  EXPECT_EQ(error_code(handle(send("invalid-1"))), "INVALID_ARGUMENT");
  EXPECT_EQ(error_code(handle(send("senderid-1"))), "SENDER_ID_MISMATCH");
  const Response quota = handle(send("quota-1"));
  EXPECT_EQ(quota.status, 429);
  EXPECT_EQ(quota.headers.back(), (std::pair<std::string, std::string>{"retry-after", "1"}));
  EXPECT_EQ(handle(send("unavailable-1")).status, 503);
  EXPECT_EQ(handle(send("internal-1")).status, 500);
  EXPECT_TRUE(handle(send("noanswer-1")).no_answer);
}

TEST_F(SimFcmService, ForcedStatusAndInvalidMessages) {
  ASSERT_TRUE(behaviour_.apply_json(R"({"force_status": 503})", nullptr));
  const Response forced = handle(send("t"));
  EXPECT_EQ(forced.status, 503);
  EXPECT_EQ(error_code(forced), "UNAVAILABLE");

  Request bad = send("t");
  Request copy;
  copy.set_method("POST");
  copy.set_path(std::string(bad.path()));
  copy.add_header("authorization", bad.header("authorization"));
  copy.append_body(R"({"message":{"token":"t","data":{"n":1}}})", 65536);
  const Response invalid = handle(copy);
  EXPECT_EQ(invalid.status, 400);
  EXPECT_NE(json::parse(invalid.body)["error"]["message"].get<std::string>().find("message.data"),
            std::string::npos);
}

}  // namespace
}  // namespace pushgw::sim::fcm
