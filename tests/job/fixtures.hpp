#pragma once
// Notifications, tokens and validation contexts shared by the job, apns and api tests.

#include <cstddef>
#include <cstdio>
#include <string>

#include "pushgw/job/notification.hpp"
#include "pushgw/job/validate.hpp"

namespace pushgw::testing {

// A valid 64-hex-digit APNs token, different for each i.
inline std::string ios_token(std::size_t i) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016zx", i);
  return std::string(48, 'a') + buf;
}

// A valid FCM registration token, different for each i.
inline std::string fcm_token(std::size_t i) {
  return "fcm-token_" + std::to_string(i) + ":APA91b.example";
}

// Every field set, so round trips cover them all.
inline job::Notification full_notification() {
  job::Notification n;
  n.platform = job::Platform::ios;
  n.tokens = {ios_token(1), ios_token(2)};
  n.app = "demo";
  n.title = "Hello";
  n.message = "World \xe2\x9c\x93";  // a non-ASCII character
  n.badge = 3;
  n.sound = "default";
  n.category = "MESSAGE";
  n.thread_id = "thread-1";
  n.image = "https://example.com/a.png";
  n.data = nlohmann::json{{"chat", 42}, {"nested", {{"a", {1, 2.5, "x", nullptr, true}}}}};
  n.priority = job::Priority::normal;
  n.collapse_id = "collapse-1";
  n.expiration = 1700000000;
  n.push_type = "alert";
  n.content_available = false;
  n.mutable_content = true;
  n.topic = "com.example.app";
  n.apns = nlohmann::json{{"headers", {{"apns-priority", "5"}}},
                          {"payload", {{"aps", {{"sound", "ping.caf"}}}}}};
  n.fcm = nlohmann::json{{"android", {{"ttl", "60s"}}}};
  n.id = "producer-key-1";
  n.lane = "bulk";
  n.send_at = 1700000100;
  n.trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
  n.job = job::JobMeta{"0123456789abcdef0123456789abcdef", 1700000000123, 2, 1};
  return n;
}

// One app "demo" with both providers, and small limits.
inline job::ValidationContext demo_context() {
  job::ValidationContext ctx;
  ctx.limits.max_tokens_per_notification = 5;
  ctx.limits.max_notifications_per_request = 3;
  ctx.apps["demo"] = job::AppProviders{true, true};
  return ctx;
}

}  // namespace pushgw::testing
