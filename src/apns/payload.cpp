#include "pushgw/apns/payload.hpp"

#include <algorithm>
#include <optional>
#include <string_view>

#include "pushgw/job/codec.hpp"

namespace pushgw::apns {

using nlohmann::json;

namespace {

std::string lowercase(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](char c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  });
  return out;
}

// The pass-through value of one apns.headers entry, matched case-insensitively.
std::optional<std::string> passthrough_header(const job::Notification& n, std::string_view name) {
  if (!n.apns || !n.apns->is_object()) return std::nullopt;
  const auto headers = n.apns->find("headers");
  if (headers == n.apns->end() || !headers->is_object()) return std::nullopt;
  for (const auto& [key, value] : headers->items()) {
    if (value.is_string() && lowercase(key) == name) return value.get<std::string>();
  }
  return std::nullopt;
}

// Whether the aps dictionary asks for a silent background update only.
bool is_background_payload(const json& payload) {
  const auto aps = payload.find("aps");
  if (aps == payload.end() || !aps->is_object()) return false;
  const auto ca = aps->find("content-available");
  if (ca == aps->end() || *ca != 1) return false;
  return !aps->contains("alert") && !aps->contains("sound") && !aps->contains("badge");
}

std::string_view topic_suffix(std::string_view push_type) {
  if (push_type == "voip") return ".voip";
  if (push_type == "complication") return ".complication";
  if (push_type == "fileprovider") return ".pushkit.fileprovider";
  if (push_type == "location") return ".location-query";
  if (push_type == "liveactivity") return ".push-type.liveactivity";
  if (push_type == "pushtotalk") return ".voip-ptt";
  return {};
}

}  // namespace

json build_apns_payload_json(const job::Notification& n) {
  json payload = json::object();
  if (n.data && n.data->is_object()) {
    for (const auto& [key, value] : n.data->items()) payload[key] = value;
  }

  json aps = json::object();
  if (n.title || n.message) {
    json alert = json::object();
    if (n.title) alert["title"] = *n.title;
    if (n.message) alert["body"] = *n.message;
    aps["alert"] = std::move(alert);
  }
  if (n.badge) aps["badge"] = *n.badge;
  if (n.sound) aps["sound"] = *n.sound;
  if (n.category) aps["category"] = *n.category;
  if (n.thread_id) aps["thread-id"] = *n.thread_id;
  if (n.content_available.value_or(false)) aps["content-available"] = 1;
  if (n.mutable_content.value_or(false)) aps["mutable-content"] = 1;
  payload["aps"] = std::move(aps);

  if (n.apns && n.apns->is_object()) {
    if (const auto pass = n.apns->find("payload"); pass != n.apns->end() && pass->is_object()) {
      payload.merge_patch(*pass);
    }
  }
  return payload;
}

std::string build_apns_payload(const job::Notification& n) {
  return job::dump_compact(build_apns_payload_json(n));
}

std::string effective_push_type(const job::Notification& n) {
  if (auto header = passthrough_header(n, "apns-push-type")) return *header;
  if (n.push_type) return *n.push_type;
  return is_background_payload(build_apns_payload_json(n)) ? "background" : "alert";
}

std::string effective_push_type(const job::Notification& n, const json& payload) {
  if (auto header = passthrough_header(n, "apns-push-type")) return *header;
  if (n.push_type) return *n.push_type;
  return is_background_payload(payload) ? "background" : "alert";
}

std::size_t apns_payload_limit(const job::Notification& n) { return apns_payload_limit(effective_push_type(n)); }

std::size_t apns_payload_limit(std::string_view push_type) {
  return push_type == "voip" ? kVoipPayloadLimit : kPayloadLimit;
}

HeaderList build_apns_headers(const job::Notification& n, const std::string& default_topic) {
  return build_apns_headers(n, default_topic, effective_push_type(n));
}

HeaderList build_apns_headers(const job::Notification& n, const std::string& default_topic,
                              const std::string& push_type) {
  HeaderList headers;
  headers.emplace_back("apns-push-type", push_type);

  const bool low_priority = push_type == "background" || n.priority == job::Priority::normal;
  headers.emplace_back("apns-priority", low_priority ? "5" : "10");

  std::string topic = n.topic && !n.topic->empty() ? *n.topic : default_topic;
  if (!topic.empty()) {
    const auto suffix = topic_suffix(push_type);
    if (!suffix.empty() && !topic.ends_with(suffix)) topic += suffix;
    headers.emplace_back("apns-topic", std::move(topic));
  }
  if (n.expiration) headers.emplace_back("apns-expiration", std::to_string(*n.expiration));
  if (n.collapse_id) headers.emplace_back("apns-collapse-id", *n.collapse_id);

  if (n.apns && n.apns->is_object()) {
    const auto pass = n.apns->find("headers");
    if (pass != n.apns->end() && pass->is_object()) {
      for (const auto& [key, value] : pass->items()) {
        if (!value.is_string()) continue;
        const auto name = lowercase(key);
        auto existing = std::find_if(headers.begin(), headers.end(),
                                     [&](const auto& h) { return h.first == name; });
        if (existing != headers.end()) {
          existing->second = value.get<std::string>();
        } else {
          headers.emplace_back(name, value.get<std::string>());
        }
      }
    }
  }
  return headers;
}

}  // namespace pushgw::apns
