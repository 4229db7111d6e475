#include "pushgw/sim/request.hpp"

#include <gtest/gtest.h>

namespace pushgw::sim {
namespace {

TEST(SimRequest, KeepsHeadersInOrderAndFindsTheFirst) {
  Request request;
  request.set_method("POST");
  request.set_path("/3/device/abc");
  request.add_header("apns-topic", "com.example");
  request.add_header("apns-topic", "second");
  request.add_header("apns-priority", "10");
  EXPECT_EQ(request.method(), "POST");
  EXPECT_EQ(request.path(), "/3/device/abc");
  EXPECT_EQ(request.header("apns-topic"), "com.example");
  EXPECT_EQ(request.header_count("apns-topic"), 2u);
  EXPECT_TRUE(request.has_header("apns-priority"));
  EXPECT_FALSE(request.has_header("apns-id"));
  EXPECT_EQ(request.header("apns-id"), "");
}

TEST(SimRequest, BodyIsStoredUpToTheLimitButCountedWhole) {
  Request request;
  request.append_body("12345", 8);
  request.append_body("67890", 8);
  EXPECT_EQ(request.body(), "12345678");
  EXPECT_EQ(request.body_size(), 10u);
}

TEST(SimRequest, ClearForgetsEverything) {
  Request request;
  request.set_method("GET");
  request.add_header("a", "b");
  request.append_body("x", 10);
  request.clear();
  EXPECT_EQ(request.method(), "");
  EXPECT_FALSE(request.has_header("a"));
  EXPECT_EQ(request.body_size(), 0u);
}

TEST(SimResponse, SetJsonSetsStatusBodyAndContentType) {
  Response response;
  response.set_json(400, R"({"reason":"BadDeviceToken"})");
  EXPECT_EQ(response.status, 400);
  EXPECT_EQ(response.body, R"({"reason":"BadDeviceToken"})");
  ASSERT_EQ(response.headers.size(), 1u);
  EXPECT_EQ(response.headers[0].first, "content-type");
  response.clear();
  EXPECT_EQ(response.status, 200);
  EXPECT_TRUE(response.headers.empty());
  EXPECT_FALSE(response.delivered);
}

}  // namespace
}  // namespace pushgw::sim
