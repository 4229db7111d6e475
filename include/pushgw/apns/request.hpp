#pragma once
// One APNs request for one device token (pure logic, no I/O): what the provider sends over
// HTTP/2, or the outcome when the notification cannot be sent at all.
//
//   POST /3/device/<token>
//   apns-id: <UUID v4>               (unless apns.headers sets one)
//   authorization: bearer <jwt>      (token auth; a pass-through authorization is dropped)
//   apns-push-type, apns-priority, apns-topic, ... and the body from payload.hpp

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

// The outcome when the request is not worth sending: an empty token (rejected,
// "MissingDeviceToken"), a token that is not hex (token_dead, "BadDeviceToken": APNs tokens
// are hex, and other characters would change the request path), a payload over the APNs
// limit (rejected, "PayloadTooLarge"), or a payload that cannot be serialised (rejected).
// `authorization` is the full header value ("bearer <jwt>"), empty for certificate auth.
std::variant<ApnsRequest, job::SendOutcome> build_apns_request(const job::Notification& n,
                                                               std::string_view device_token,
                                                               const std::string& default_topic,
                                                               const std::string& authorization);

// True for a non-empty string of hex digits (either case).
bool is_hex_device_token(std::string_view token);

// A random (version 4) UUID in canonical lower-case form, "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx".
std::string new_apns_id();

}  // namespace pushgw::apns
