#include "pushgw/sim/broadcast.hpp"

#include <gtest/gtest.h>

#include <set>

namespace pushgw::sim::broadcast {
namespace {

Request broadcast_request(std::string_view channel, std::string_view expiration = "0") {
  Request request;
  request.set_method("POST");
  request.set_path("/4/broadcasts/apps/com.example.app");
  if (!channel.empty()) request.add_header("apns-channel-id", channel);
  request.add_header("apns-push-type", "liveactivity");
  request.add_header("apns-priority", "10");
  if (!expiration.empty()) request.add_header("apns-expiration", expiration);
  return request;
}

TEST(SimChannels, CreateListReadDeletePerApp) {
  Channels channels;
  const auto a = channels.create("com.example.app", 0);
  const auto b = channels.create("com.example.app", 1);
  ASSERT_TRUE(a && b);
  EXPECT_NE(*a, *b);
  EXPECT_EQ(a->size(), 24u);
  EXPECT_EQ(channels.storage_policy("com.example.app", *b), 1);
  EXPECT_EQ(channels.storage_policy("com.other.app", *b), std::nullopt);
  const auto listed = channels.list("com.example.app");
  EXPECT_EQ(std::set<std::string>(listed.begin(), listed.end()), (std::set<std::string>{*a, *b}));
  EXPECT_TRUE(channels.erase("com.example.app", *a));
  EXPECT_FALSE(channels.erase("com.example.app", *a));
  EXPECT_EQ(channels.list("com.example.app"), std::vector<std::string>{*b});
  EXPECT_TRUE(channels.list("com.none").empty());
}

TEST(SimBroadcast, HeadersAsAppleDocumentsThem) {
  EXPECT_EQ(check_broadcast_headers(broadcast_request("dHN0LXNyY2gtY2hubA=="), 0), "");
  EXPECT_EQ(check_broadcast_headers(broadcast_request(""), 0), "MissingChannelId");
  EXPECT_EQ(check_broadcast_headers(broadcast_request("not base64!"), 0), "BadChannelId");
  EXPECT_EQ(check_broadcast_headers(broadcast_request("dHN0LXNyY2gtY2hubA=="), std::nullopt), "ChannelNotRegistered");
  // Expiration: required; a channel that stores nothing takes only 0.
  EXPECT_EQ(check_broadcast_headers(broadcast_request("dHN0LXNyY2gtY2hubA==", ""), 0), "BadExpirationDate");
  EXPECT_EQ(check_broadcast_headers(broadcast_request("dHN0LXNyY2gtY2hubA==", "1700000000"), 0), "BadExpirationDate");
  EXPECT_EQ(check_broadcast_headers(broadcast_request("dHN0LXNyY2gtY2hubA==", "1700000000"), 1), "");
  Request alert = broadcast_request("dHN0LXNyY2gtY2hubA==");
  Request wrong;
  wrong.set_method("POST");
  wrong.set_path(std::string(alert.path()));
  wrong.add_header("apns-channel-id", "dHN0LXNyY2gtY2hubA==");
  wrong.add_header("apns-push-type", "alert");
  EXPECT_EQ(check_broadcast_headers(wrong, 0), "InvalidPushType");
  Request missing;
  missing.add_header("apns-channel-id", "dHN0LXNyY2gtY2hubA==");
  EXPECT_EQ(check_broadcast_headers(missing, 0), "MissingPushType");
}

}  // namespace
}  // namespace pushgw::sim::broadcast
