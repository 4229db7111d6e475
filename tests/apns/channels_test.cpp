// Channel management requests and answers (pure), and ChannelClient against a real pushgw-sim.

#include "pushgw/apns/channels.hpp"

#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/asio_wait.hpp"
#include "support/sim_process.hpp"

namespace pushgw::apns {
namespace {

using nlohmann::json;

const h2::Header* find(const h2::Request& request, std::string_view name) {
  for (const auto& header : request.headers) {
    if (header.name == name) return &header;
  }
  return nullptr;
}

TEST(ChannelsEndpoint, ApplesManagementHostsForApplesPushHosts) {
  config::ApnsConfig config;
  EXPECT_EQ(channels_endpoint(config), "https://api-manage-broadcast.push.apple.com:2196");
  config.endpoint = "https://api.sandbox.push.apple.com";
  EXPECT_EQ(channels_endpoint(config), "https://api-manage-broadcast.sandbox.push.apple.com:2195");
  config.endpoint = "https://127.0.0.1:2197";
  EXPECT_EQ(channels_endpoint(config), "https://127.0.0.1:2197");
  config.channels_endpoint = "https://proxy:8443";
  EXPECT_EQ(channels_endpoint(config), "https://proxy:8443");
}

TEST(ChannelRequest, EachActionAsAppleDocumentsIt) {
  const auto create = channel_request(ChannelAction::create, "com.example.app", {.channel_id = "", .storage_policy = 1});
  EXPECT_EQ(create.method, "POST");
  EXPECT_EQ(create.path, "/1/apps/com.example.app/channels");
  EXPECT_EQ(json::parse(create.body), (json{{"message-storage-policy", 1}, {"push-type", "LiveActivity"}}));
  ASSERT_NE(find(create, "apns-request-id"), nullptr);
  EXPECT_EQ(find(create, "apns-request-id")->value.size(), 36u);
  EXPECT_EQ(find(create, "apns-channel-id"), nullptr);

  const auto list = channel_request(ChannelAction::list, "com.example.app", {});
  EXPECT_EQ(list.method, "GET");
  EXPECT_EQ(list.path, "/1/apps/com.example.app/all-channels");
  for (const auto action : {ChannelAction::read, ChannelAction::remove}) {
    const auto request = channel_request(action, "com.example.app", {.channel_id = "dHN0LXNyY2gtY2hubA==", .storage_policy = 0});
    EXPECT_EQ(request.method, action == ChannelAction::read ? "GET" : "DELETE");
    EXPECT_EQ(request.path, "/1/apps/com.example.app/channels");
    ASSERT_NE(find(request, "apns-channel-id"), nullptr);
    EXPECT_EQ(find(request, "apns-channel-id")->value, "dHN0LXNyY2gtY2hubA==");
    EXPECT_TRUE(request.body.empty());
  }
}

TEST(ChannelResponse, SuccessAndAppleReasons) {
  h2::Response created{201, {{"apns-channel-id", "abcd", false}, {"apns-request-id", "r1", false}}, ""};
  auto result = parse_channel_response(ChannelAction::create, created);
  EXPECT_TRUE(result.ok);
  EXPECT_EQ(result.channel_id, "abcd");
  EXPECT_EQ(result.request_id, "r1");
  result = parse_channel_response(ChannelAction::list, {200, {}, R"({"channels":["a","b"]})"});
  EXPECT_EQ(result.channels, (std::vector<std::string>{"a", "b"}));
  result = parse_channel_response(ChannelAction::read, {200, {}, R"({"message-storage-policy":1,"push-type":"LiveActivity"})"});
  EXPECT_EQ(result.storage_policy, 1);
  EXPECT_TRUE(parse_channel_response(ChannelAction::remove, {204, {}, ""}).ok);

  result = parse_channel_response(ChannelAction::read, {400, {}, R"({"reason":"ChannelNotRegistered"})"});
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.reason, "ChannelNotRegistered");
  EXPECT_EQ(parse_channel_response(ChannelAction::create, {201, {}, ""}).reason, "unexpected answer: no apns-channel-id");
  EXPECT_EQ(parse_channel_response(ChannelAction::list, {502, {}, "<html>"}).reason, "HTTP 502");
}

TEST(ChannelClient, CreatesListsReadsAndDeletesOnTheSimulator) {
  boost::asio::io_context io;
  test::SimCredentials credentials = test::dev_sim_credentials();
  test::SimProcess sim{{}, credentials};
  config::ApnsConfig config;
  config.endpoint = sim.endpoint();
  config.ca_file = sim.cert_file();
  config.topic = "com.example.app";
  config.auth.type = config::ApnsAuthConfig::Type::token;
  config.auth.key_file = credentials.apns_key_file;
  config.auth.key_id = credentials.apns_key_id;
  config.auth.team_id = credentials.apns_team_id;
  ChannelClient client(io.get_executor(), config, load_credentials(config.auth, "apps.demo.apns.auth"));
  const auto run = [&](ChannelAction action, ChannelOptions options) {
    return test::run_until_done(io, client.run(action, std::move(options)));
  };

  const auto created = run(ChannelAction::create, {.channel_id = "", .storage_policy = 1});
  ASSERT_TRUE(created.ok) << created.reason;
  EXPECT_FALSE(created.channel_id.empty());
  EXPECT_EQ(run(ChannelAction::list, {}).channels, std::vector<std::string>{created.channel_id});
  EXPECT_EQ(run(ChannelAction::read, {.channel_id = created.channel_id, .storage_policy = 0}).storage_policy, 1);
  EXPECT_TRUE(run(ChannelAction::remove, {.channel_id = created.channel_id, .storage_policy = 0}).ok);
  const auto gone = run(ChannelAction::read, {.channel_id = created.channel_id, .storage_policy = 0});
  EXPECT_FALSE(gone.ok);
  EXPECT_EQ(gone.status, 400);
  EXPECT_EQ(gone.reason, "ChannelNotRegistered");
  EXPECT_TRUE(run(ChannelAction::list, {}).channels.empty());

  // A bundle id with a push-type suffix is refused, as APNs refuses it.
  config.topic = "com.example.app.push-type.liveactivity";
  ChannelClient suffixed(io.get_executor(), config, load_credentials(config.auth, "apps.demo.apns.auth"));
  const auto refused = test::run_until_done(io, suffixed.run(ChannelAction::list, {}));
  EXPECT_EQ(refused.reason, "TopicDisallowed");
}

}  // namespace
}  // namespace pushgw::apns
