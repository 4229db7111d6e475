#pragma once
// One APNs request for one device token (pure logic, no I/O): what the provider sends over
// HTTP/2, or the outcome when the notification cannot be sent at all.
//
//   POST /3/device/<token>
//   apns-id: <UUID v4>               (unless apns.headers sets one)
//   authorization: bearer <jwt>      (token auth; a pass-through authorization is dropped)
//   apns-push-type, apns-priority, apns-topic, ... and the body from payload.hpp

#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "pushgw/apns/payload.hpp"
#include "pushgw/job/notification.hpp"
#include "pushgw/job/outcome.hpp"

namespace pushgw::apns {

struct ApnsRequest {
  std::string path;                      // "/3/device/<token>"
  HeaderList headers;                    // lower-case names
  std::string body;                      // the JSON payload
  std::string apns_id;                   // the apns-id header's value
  bool topic_from_notification = false;  // see ResponseContext
};

// What every request of one notification shares, built once however many tokens it goes to:
// the body, the headers but apns-id, and an apns-id only when apns.headers fixes one.
struct ApnsPrepared {
  HeaderList headers;                    // lower-case names, authorization included, no apns-id
  std::string body;                      // the JSON payload
  std::string fixed_apns_id;             // from apns.headers; empty = a new one per request
  bool topic_from_notification = false;  // see ResponseContext
  // A broadcast (target channel): "/4/broadcasts/apps/<bundle id>", each send naming its channel
  // in apns-channel-id and itself in apns-request-id; empty for device pushes.
  std::string broadcast_path;
};

// The notification's part of every request, or the outcome when it cannot be sent at all: a
// payload over the APNs limit (rejected, "PayloadTooLarge"), one that cannot be serialised
// (rejected), a broadcast without a bundle id (credentials_error, "MissingTopic"). `authorization` is the full header value ("bearer <jwt>"), empty for
// certificate auth; a pass-through authorization header is dropped (ours are not the
// producer's to replace).
std::variant<ApnsPrepared, job::SendOutcome> prepare_apns_request(const job::Notification& n,
                                                                  const std::string& default_topic,
                                                                  const std::string& authorization);

// The outcome when a device token cannot be sent to: empty (rejected, "MissingDeviceToken"),
// or not hex (token_dead, "BadDeviceToken": APNs tokens are hex, and other characters would
// change the request path). nullopt for a token worth sending to.
std::optional<job::SendOutcome> check_device_token(std::string_view device_token);

// "/3/device/<token>".
std::string device_path(std::string_view device_token);
// "/4/broadcasts/apps/<bundle id>": where a broadcast on one of the app's channels goes
// (Apple's "Sending broadcast push notification requests to APNs"), on the push host.
std::string broadcast_path(std::string_view bundle_id);

// prepare_apns_request and check_device_token in one, for one token: path, headers with
// apns-id, body.
std::variant<ApnsRequest, job::SendOutcome> build_apns_request(const job::Notification& n,
                                                               std::string_view device_token,
                                                               const std::string& default_topic,
                                                               const std::string& authorization);

// True for a non-empty string of hex digits (either case).
bool is_hex_device_token(std::string_view token);

// A random (version 4) UUID in canonical lower-case form, "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx".
// From a per-thread generator seeded by OpenSSL: unique, cheap, not secret (nor need it be).
std::string new_apns_id();

}  // namespace pushgw::apns
