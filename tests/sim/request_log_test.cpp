#include "pushgw/sim/request_log.hpp"

#include <gtest/gtest.h>

namespace pushgw::sim {
namespace {

using nlohmann::json;

Request request_with(const std::string& body) {
  Request request;
  request.set_method("POST");
  request.set_path("/3/device/abc");
  request.add_header("apns-topic", "com.example.app");
  request.add_header("authorization", "bearer secret");
  request.append_body(body, 65536);
  return request;
}

TEST(RequestLog, KeepsWhatWasSentWithoutTheCredential) {
  RequestLog log;
  Response response;
  response.status = 400;
  response.reason = "BadPayload";
  log.record(request_with(R"({"aps":{"alert":"hi"}})"), response);
  log.record(request_with("not json"), Response{});
  const json entries = json::parse(log.to_json())["requests"];
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0]["method"], "POST");
  EXPECT_EQ(entries[0]["path"], "/3/device/abc");
  EXPECT_EQ(entries[0]["headers"], (json{{"apns-topic", "com.example.app"}}));
  EXPECT_EQ(entries[0]["body"], (json{{"aps", {{"alert", "hi"}}}}));
  EXPECT_EQ(entries[0]["status"], 400);
  EXPECT_EQ(entries[0]["reason"], "BadPayload");
  EXPECT_EQ(entries[1]["body"], "not json");
  log.clear();
  EXPECT_EQ(json::parse(log.to_json())["requests"], json::array());
}

TEST(RequestLog, KeepsTheNewestEntriesOnly) {
  RequestLog log;
  for (std::size_t i = 0; i < RequestLog::kCapacity + 10; ++i) log.record(request_with(std::to_string(i)), Response{});
  const json entries = json::parse(log.to_json())["requests"];
  ASSERT_EQ(entries.size(), RequestLog::kCapacity);
  EXPECT_EQ(entries.front()["body"], 10);
  EXPECT_EQ(entries.back()["body"], RequestLog::kCapacity + 9);
}

}  // namespace
}  // namespace pushgw::sim
