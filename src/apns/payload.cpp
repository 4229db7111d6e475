#include "pushgw/apns/payload.hpp"

#include <algorithm>
#include <chrono>
#include <optional>
#include <string_view>

#include "pushgw/job/codec.hpp"
#include "pushgw/job/validate.hpp"

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

// Whether the aps dictionary asks for a silent background update only.
bool is_background_payload(const json& payload) {
  const auto aps = payload.find("aps");
  if (aps == payload.end() || !aps->is_object()) return false;
  const auto ca = aps->find("content-available");
  if (ca == aps->end() || *ca != 1) return false;
  return !aps->contains("alert") && !aps->contains("sound") && !aps->contains("badge");
}

std::string_view topic_suffix(std::string_view push_type) {
  const auto* type = job::find_apns_push_type(push_type);
  return type ? type->topic_suffix : std::string_view();
}

// The ActivityKit fields of aps. The timestamp orders updates on the device, so one left out
// is the time the job was stored: a retried update never passes a newer one.
void add_live_activity(const job::Notification& n, json& aps) {
  const json& la = *n.live_activity;
  static constexpr std::pair<const char*, const char*> kNames[] = {
      {"event", "event"},
      {"content_state", "content-state"},
      {"timestamp", "timestamp"},
      {"stale_date", "stale-date"},
      {"dismissal_date", "dismissal-date"},
      {"relevance_score", "relevance-score"},
      {"attributes_type", "attributes-type"},
      {"attributes", "attributes"},
      {"input_push_channel", "input-push-channel"}};
  for (const auto& [ours, apple] : kNames) {
    if (const auto it = la.find(ours); it != la.end()) aps[apple] = *it;
  }
  if (const auto it = la.find("input_push_token"); it != la.end() && it->get<bool>()) aps["input-push-token"] = 1;
  if (!aps.contains("timestamp")) {
    const std::int64_t ms = n.job ? n.job->enqueued_ms
                                  : std::chrono::duration_cast<std::chrono::milliseconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count();
    aps["timestamp"] = ms / 1000;
  }
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
  if (n.live_activity && n.live_activity->is_object()) add_live_activity(n, aps);
  if (n.push_type == "widgets") aps["content-changed"] = true;  // what WidgetKit reloads on
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
  if (auto chosen = job::explicit_push_type(n)) return *chosen;
  return is_background_payload(build_apns_payload_json(n)) ? "background" : "alert";
}

std::string effective_push_type(const job::Notification& n, const json& payload) {
  if (auto chosen = job::explicit_push_type(n)) return *chosen;
  return is_background_payload(payload) ? "background" : "alert";
}

std::size_t apns_payload_limit(const job::Notification& n) { return apns_payload_limit(n, effective_push_type(n)); }

std::size_t apns_payload_limit(const job::Notification& n, std::string_view push_type) {
  return push_type == "voip" || n.target == job::Target::apns_channel ? kVoipPayloadLimit : kPayloadLimit;
}

std::string apns_priority(const job::Notification& n, std::string_view push_type) {
  const auto* type = job::find_apns_push_type(push_type);
  const std::string_view wanted = n.priority == job::Priority::normal ? "5" : "10";
  if (!type || job::priority_allowed(*type, wanted)) return std::string(wanted);
  // background takes only 5 and pushtotalk only 10: their one value (validation refused the
  // notifications whose priority asks for another one where that matters).
  return std::string(type->priorities.substr(0, type->priorities.find(' ')));
}

HeaderList build_apns_headers(const job::Notification& n, const std::string& default_topic) {
  return build_apns_headers(n, default_topic, effective_push_type(n));
}

HeaderList build_apns_headers(const job::Notification& n, const std::string& default_topic,
                              const std::string& push_type) {
  HeaderList headers;
  headers.emplace_back("apns-push-type", push_type);
  headers.emplace_back("apns-priority", apns_priority(n, push_type));

  // A broadcast names its bundle id in the path, not in apns-topic.
  if (n.target != job::Target::apns_channel) {
    std::string topic = n.topic && !n.topic->empty() ? *n.topic : push_type == "mdm" ? std::string() : default_topic;
    if (!topic.empty()) {
      const auto suffix = topic_suffix(push_type);
      if (!suffix.empty() && !topic.ends_with(suffix)) topic += suffix;
      headers.emplace_back("apns-topic", std::move(topic));
    }
  }
  if (n.expiration) {
    headers.emplace_back("apns-expiration", std::to_string(*n.expiration));
  } else if (push_type == "pushtotalk" || n.target == job::Target::apns_channel) {
    // PushToTalk: a late push is worse than none. Broadcasts: the header is required, and 0 is
    // the one value every channel storage policy accepts.
    headers.emplace_back("apns-expiration", "0");
  }
  if (n.collapse_id && n.target != job::Target::apns_channel) headers.emplace_back("apns-collapse-id", *n.collapse_id);

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
