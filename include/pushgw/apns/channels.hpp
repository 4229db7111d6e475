#pragma once
// APNs broadcast channel management (iOS 18 Live Activities): create, list, read and delete
// the channels of an app's bundle id, as Apple's "Sending channel management requests to APNs"
// describes. The requests and their answers are pure logic; ChannelClient sends one over a
// connection of its own (channels are managed now and then, by `pushgw channels`, so keeping a
// connection open would cost more than it saves).
//
//   create  POST   /1/apps/<bundle id>/channels      {"message-storage-policy": 0|1,
//                                                     "push-type": "LiveActivity"} → 201,
//                                                     apns-channel-id
//   list    GET    /1/apps/<bundle id>/all-channels  → 200 {"channels": [...]}
//   read    GET    /1/apps/<bundle id>/channels      apns-channel-id → 200
//                                                     {"message-storage-policy", "push-type"}
//   remove  DELETE /1/apps/<bundle id>/channels      apns-channel-id → 204

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "pushgw/apns/credentials.hpp"
#include "pushgw/config/config.hpp"
#include "pushgw/h2/connection.hpp"

namespace pushgw::apns {

// Where channels are managed: the app's apns.channels_endpoint when set; else Apple's
// management host for Apple's push hosts (https://api-manage-broadcast.push.apple.com:2196,
// the sandbox's https://api-manage-broadcast.sandbox.push.apple.com:2195); else the push
// endpoint itself (a simulator or proxy that serves both).
std::string channels_endpoint(const config::ApnsConfig& config);

enum class ChannelAction { create, list, read, remove };

// 0: no message stored (frequent updates, a bigger budget); 1: the most recent message stored
// for offline devices (up to 8 hours).
struct ChannelOptions {
  std::string channel_id;  // read, remove
  int storage_policy = 0;  // create
};

// The request (no authorization: the client adds it), an apns-request-id of our own included.
h2::Request channel_request(ChannelAction action, std::string_view bundle_id, const ChannelOptions& options);

struct ChannelResult {
  bool ok = false;
  int status = 0;                     // 0: no answer (then `reason` says why)
  std::string reason;                 // APNs' reason on failure
  std::string request_id;             // apns-request-id, for Apple's support
  std::string channel_id;             // create
  std::vector<std::string> channels;  // list
  std::optional<int> storage_policy;  // read
};

// What APNs answered: 201 / 200 / 204 for the action, else its {"reason"}.
ChannelResult parse_channel_response(ChannelAction action, const h2::Response& response);

class ChannelClient {
 public:
  // `credentials` from load_credentials(config.auth, ...): a provider token (token auth) or the
  // client certificate (certificate auth), as for sends.
  ChannelClient(boost::asio::any_io_executor executor, config::ApnsConfig config, Credentials credentials);

  // One request to channels_endpoint(config) for the app's topic (its bundle id).
  boost::asio::awaitable<ChannelResult> run(ChannelAction action, ChannelOptions options);

 private:
  boost::asio::any_io_executor executor_;
  config::ApnsConfig config_;
  Credentials credentials_;
};

}  // namespace pushgw::apns
