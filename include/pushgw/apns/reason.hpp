#pragma once
// APNs response → provider-neutral SendOutcome.
//
// Every status and reason string in Apple's "Handling notification responses from APNs" is
// classified by whose fault it is:
//   delivered          200
//   token_dead         410 Unregistered / ExpiredToken (with the body's timestamp),
//                      400 BadDeviceToken, 400 DeviceTokenNotForTopic (topic from config)
//   retry              429 TooManyRequests, 500, 503 ServiceUnavailable / Shutdown, other 5xx,
//                      400 IdleTimeout, 403 ExpiredProviderToken (after a token refresh)
//   credentials_error  our credentials or config are wrong, every send would fail alike:
//                      403 InvalidProviderToken, MissingProviderToken, BadCertificate,
//                      BadCertificateEnvironment, Forbidden, UnrelatedKeyIdInToken,
//                      BadEnvironmentKeyIdInToken, any other 403; 400 MissingTopic;
//                      400 BadTopic / TopicDisallowed when the topic came from the config;
//                      429 TooManyProviderTokenUpdates; 404 BadPath and 405 MethodNotAllowed
//                      (pushgw always POSTs /3/device/<token>, so these mean the endpoint is
//                      not APNs)
//   rejected           this notification is wrong: the other 400s, 413 PayloadTooLarge,
//                      400 BadTopic / TopicDisallowed / DeviceTokenNotForTopic when the
//                      notification chose its own topic, unexpected statuses
//
// The outcome's `reason` is Apple's reason string when there is one (a bounded set, fit for a
// metrics label), otherwise a short description.

#include <chrono>
#include <optional>
#include <string_view>

#include <boost/system/error_code.hpp>

#include "pushgw/job/outcome.hpp"

namespace pushgw::apns {

// What the classification needs to know about the request that got the response.
struct ResponseContext {
  // True when the notification set `topic` itself (not the app's configured topic): then a
  // topic error is the notification's fault, not the config's, and a token that does not
  // match that topic may still be valid for the app's own topic.
  bool topic_from_notification = false;
  // "Now", to turn a Retry-After HTTP-date into seconds; nullopt = the system clock.
  std::optional<std::chrono::system_clock::time_point> now;
};

job::SendOutcome classify_apns_response(int status, std::string_view body_json,
                                        std::optional<std::string_view> retry_after_header,
                                        const ResponseContext& context = {});

}  // namespace pushgw::apns
