#pragma once
// The simulated APNs broadcast service (iOS 18 Live Activity channels), checked and answered as
// Apple documents it ("Sending channel management requests to APNs", "Sending broadcast push
// notification requests to APNs", "Handling error responses from APNs"):
//
//   POST   /1/apps/<bundle id>/channels       {"message-storage-policy": 0|1,
//                                              "push-type": "LiveActivity"}
//                                              → 201, apns-channel-id: <base64>
//   GET    /1/apps/<bundle id>/channels       apns-channel-id → 200 {"message-storage-policy",
//                                              "push-type"}
//   DELETE /1/apps/<bundle id>/channels       apns-channel-id → 204
//   GET    /1/apps/<bundle id>/all-channels   → 200 {"channels": [...]}
//   POST   /4/broadcasts/apps/<bundle id>     apns-channel-id, apns-push-type liveactivity,
//                                              apns-priority, apns-expiration (0 only for a
//                                              channel that stores nothing), a Live Activity
//                                              update or end of at most 5120 bytes
//                                              → 200, apns-unique-id
// Apple serves the first four on its own host and port (api-manage-broadcast...:2195/2196);
// the simulator serves everything on its one port. Every request needs a valid provider token.

#include <cstddef>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pushgw/sim/behaviour.hpp"
#include "pushgw/sim/provider_token.hpp"
#include "pushgw/sim/request.hpp"
#include "pushgw/sim/router.hpp"

namespace pushgw::sim::broadcast {

inline constexpr std::string_view channels_prefix = "/1/apps/";
inline constexpr std::string_view broadcast_prefix = "/4/broadcasts/apps/";
inline constexpr std::size_t max_payload = 5120;
inline constexpr std::size_t max_channels = 10000;  // per app and environment

// The channels of every app, by bundle id. Thread-safe.
class Channels {
 public:
  // A new random base64 id; nullopt when the app has max_channels already.
  std::optional<std::string> create(std::string_view bundle, int storage_policy);
  std::optional<int> storage_policy(std::string_view bundle, std::string_view id) const;
  bool erase(std::string_view bundle, std::string_view id);
  std::vector<std::string> list(std::string_view bundle) const;

 private:
  mutable std::mutex mutex_;
  std::map<std::string, std::map<std::string, int>, std::less<>> apps_;
};

// The APNs reason when a Live Activity broadcast request's headers do not fit the channel
// (storage_policy: nullopt = no such channel), "" when they do.
std::string_view check_broadcast_headers(const Request& request, std::optional<int> storage_policy);

class Service {
 public:
  Service(const ProviderTokenVerifier* verifier, const Behaviour& behaviour)
      : verifier_(verifier), behaviour_(behaviour) {}

  void manage(const Request& request, Response& response, ConnectionContext& context) const;
  void send(const Request& request, Response& response, ConnectionContext& context) const;
  void add_routes(Router& router) const;
  Channels& channels() const { return channels_; }

 private:
  // False (and the 403 written) when the provider token is refused.
  bool authorized(const Request& request, Response& response, ConnectionContext& context) const;

  const ProviderTokenVerifier* verifier_;
  const Behaviour& behaviour_;
  mutable Channels channels_;
};

}  // namespace pushgw::sim::broadcast
