#include "pushgw/api/gorush.hpp"

#include <algorithm>
#include <map>
#include <optional>
#include <string>

#include "pushgw/job/codec.hpp"

namespace pushgw::api {

using nlohmann::json;

namespace {

// Every field of gorush's PushNotification (both its legacy-FCM and FCM-v1 versions), plus
// pushgw's extensions. Anything else is an unknown field.
constexpr std::string_view kGorushFields[] = {
    // common
    "notif_id", "tokens", "to", "platform", "message", "title", "image", "priority",
    "content_available", "mutable_content", "sound", "data", "retry", "topic",
    // iOS
    "expiration", "apns_id", "collapse_id", "push_type", "badge", "category", "thread-id",
    "thread_id", "url-args", "alert", "production", "development", "name", "volume",
    "interruption_level", "apns",
    // Android (FCM legacy and v1)
    "api_key", "collapse_key", "time_to_live", "restricted_package_name", "dry_run", "condition",
    "notification", "android", "webpush", "fcm_options",
    // Huawei: gorush uses them only for platform 3, which pushgw rejects
    "app_id", "app_secret", "huawei_notification", "huawei_data", "huawei_collapse_key",
    "huawei_ttl", "bi_tag", "fast_app_target",
    // pushgw extensions
    "app", "lane", "send_at"};

// Accepted and ignored, because they change nothing pushgw could honour:
// - retry: pushgw retries by its own policy (exponential backoff, then dead-letter);
// - apns_id: the APNs sender assigns each request's apns-id;
// - Huawei fields on platforms 1/2, where gorush ignores them too;
// - on iOS the Android-only fields (api_key, collapse_key, time_to_live,
//   restricted_package_name, dry_run, condition, notification, android, webpush, fcm_options,
//   apns — gorush's `apns` is FCM's APNs config) and on Android the iOS-only ones (url-args,
//   alert, production, development, name, volume, interruption_level), as gorush does.
constexpr std::string_view kIgnoredEverywhere[] = {
    "retry", "apns_id", "app_id", "app_secret", "huawei_notification", "huawei_data",
    "huawei_collapse_key", "huawei_ttl", "bi_tag", "fast_app_target"};
constexpr std::string_view kAndroidOnly[] = {
    "api_key", "collapse_key", "time_to_live", "restricted_package_name", "dry_run",
    "condition", "notification", "android", "webpush", "fcm_options", "apns"};
constexpr std::string_view kIosOnly[] = {"url-args", "alert", "production", "development",
                                         "name", "volume", "interruption_level"};

// Keys gorush's iOS Alert struct has; and its legacy FCM notification, with FCM v1 names.
constexpr std::string_view kAlertKeys[] = {
    "action", "action-loc-key", "body", "launch-image", "loc-args", "loc-key", "title",
    "subtitle", "title-loc-args", "title-loc-key", "summary-arg", "summary-arg-count"};
const std::map<std::string_view, std::string_view> kFcmNotificationKeys = {
    {"title", "title"}, {"body", "body"}, {"android_channel_id", "channel_id"},
    {"icon", "icon"}, {"image", "image"}, {"sound", "sound"}, {"badge", "notification_count"},
    {"tag", "tag"}, {"color", "color"}, {"click_action", "click_action"},
    {"body_loc_key", "body_loc_key"}, {"body_loc_args", "body_loc_args"},
    {"title_loc_key", "title_loc_key"}, {"title_loc_args", "title_loc_args"}};

constexpr std::size_t kMaxFcmTtlSeconds = 2419200;  // 4 weeks, FCM's limit

bool contains(std::span<const std::string_view> list, std::string_view key) {
  return std::find(list.begin(), list.end(), key) != list.end();
}

// Go's omitempty: these values mean "not set".
bool is_unset(const json& v) {
  return v.is_null() || (v.is_string() && v.get_ref<const std::string&>().empty()) ||
         (v.is_boolean() && !v.get<bool>()) || ((v.is_object() || v.is_array()) && v.empty());
}

// One gorush notification in pushgw's JSON form, plus what is needed to name gorush's fields
// in errors found later by decode/validation.
struct Mapped {
  json native = json::object();
  std::map<std::string, std::string> renamed;  // pushgw field → gorush field it came from
  std::optional<std::size_t> to_index;         // index in tokens of the legacy `to` token
};

class NotificationMapper {
 public:
  NotificationMapper(const json& g, std::string path) : g_(g), path_(std::move(path)) {}

  std::variant<Mapped, ApiError> map() {
    if (!g_.is_object()) return fail(path_, "must be an object");
    for (const auto& [key, value] : g_.items()) {
      if (!contains(kGorushFields, key)) {
        return fail(at(key), job::unknown_field_message(key, kGorushFields));
      }
    }
    if (auto e = map_platform()) return *e;
    for (const auto& [key, value] : g_.items()) {
      if (key == "platform" || contains(kIgnoredEverywhere, key)) continue;
      // An empty token list is not "unset": validation reports it as empty.
      if (key != "tokens" && is_unset(value)) continue;
      if (ios_ && contains(kAndroidOnly, key)) continue;
      if (!ios_ && contains(kIosOnly, key)) continue;
      if (auto e = map_field(key, value)) return *e;
    }
    if (auto e = finish()) return *e;
    return std::move(out_);
  }

 private:
  std::string at(std::string_view key) const { return job::child_path(path_, key); }
  static ApiError fail(std::string path, std::string message) {
    return ApiError{400, std::move(message), std::move(path)};
  }

  std::optional<ApiError> map_platform() {
    const auto p = g_.find("platform");
    if (p == g_.end() || p->is_null()) return fail(at("platform"), "is required");
    if (*p == 3) return fail(at("platform"), "Huawei (platform 3) is not supported by pushgw");
    const auto platform = job::parse_platform(*p);
    if (!platform) return fail(at("platform"), "must be 1 (ios) or 2 (android)");
    ios_ = *platform == job::Platform::ios;
    out_.native["platform"] = job::to_string(*platform);
    return std::nullopt;
  }

  // Sets pushgw's `native_key` from gorush's `key`, remembering renames for error paths.
  std::optional<ApiError> copied(const std::string& key, const json& value,
                                 const std::string& native_key) {
    out_.native[native_key] = value;
    if (native_key != key) out_.renamed[native_key] = key;
    return std::nullopt;
  }

  std::optional<ApiError> map_field(const std::string& key, const json& v) {
    // Same name, same meaning; decode_notification checks the types.
    static constexpr std::string_view kSame[] = {
        "tokens", "message", "title", "image", "priority", "content_available",
        "mutable_content", "data", "expiration", "collapse_id", "push_type", "category",
        "app", "lane", "send_at"};
    if (contains(kSame, key)) {
      if (key == "collapse_id" && out_.native.contains("collapse_id")) return conflict(key);
      return copied(key, v, key);
    }
    if (key == "notif_id") return copied(key, v, "id");
    if (key == "thread-id" || key == "thread_id") {
      if (out_.native.contains("thread_id")) return conflict(key);
      return copied(key, v, "thread_id");
    }
    if (key == "badge") {
      if (v.is_number_integer() && v.get<std::int64_t>() < 0) return std::nullopt;  // as gorush
      return copied(key, v, "badge");
    }
    if (key == "to") return map_to(v);
    if (key == "topic") {
      if (ios_) return copied(key, v, "topic");
      return fcm_topic(key, v);
    }
    if (key == "sound" || key == "name" || key == "volume") return map_sound_part(key, v);
    if (key == "alert") return map_alert(v);
    if (key == "url-args") {
      if (!is_string_array(v)) return fail(at(key), "must be an array of strings");
      aps_["url-args"] = v;
      return std::nullopt;
    }
    if (key == "interruption_level") {
      if (!v.is_string()) return fail(at(key), "must be a string");
      aps_["interruption-level"] = v;
      return std::nullopt;
    }
    if (key == "production" || key == "development") {
      return fail(at(key), "per-notification APNs environments are not supported; the app's "
                           "apns.endpoint decides");
    }
    if (key == "api_key") {
      return fail(at(key), "per-request FCM keys are not supported; configure the app's "
                           "fcm.service_account_file");
    }
    if (key == "dry_run") return fail(at(key), "dry_run is not supported");
    if (key == "condition") return copied(key, v, "condition");
    if (key == "collapse_key") {
      if (out_.native.contains("collapse_id")) return conflict(key);
      return copied(key, v, "collapse_id");
    }
    if (key == "time_to_live") {
      if (!v.is_number_unsigned() && !(v.is_number_integer() && v.get<std::int64_t>() >= 0)) {
        return fail(at(key), "must be an integer from 0 to 2419200 (4 weeks)");
      }
      if (v.get<std::uint64_t>() > kMaxFcmTtlSeconds) {
        return fail(at(key), "must be an integer from 0 to 2419200 (4 weeks)");
      }
      legacy_android_["ttl"] = std::to_string(v.get<std::uint64_t>()) + "s";
      return std::nullopt;
    }
    if (key == "restricted_package_name") {
      if (!v.is_string()) return fail(at(key), "must be a string");
      legacy_android_["restricted_package_name"] = v;
      return std::nullopt;
    }
    if (key == "notification") return map_fcm_notification(v);
    // android, webpush, apns, fcm_options: parts of the FCM v1 message, passed through.
    if (!v.is_object()) return fail(at(key), "must be an object");
    fcm_[key] = v;
    return std::nullopt;
  }

  std::optional<ApiError> conflict(const std::string& key) {
    return fail(at(key), "gives the same field as another one in this notification; keep one");
  }

  static bool is_string_array(const json& v) {
    return v.is_array() && std::all_of(v.begin(), v.end(), [](const json& e) { return e.is_string(); });
  }

  std::optional<ApiError> map_to(const json& v) {
    if (!v.is_string()) return fail(at("to"), "must be a string");
    const auto& to = v.get_ref<const std::string&>();
    if (!ios_ && to.starts_with("/topics/")) return fcm_topic("to", v);
    to_ = to;
    return std::nullopt;
  }

  // gorush's Android `topic`, or legacy FCM's `to: "/topics/<name>"`: pushgw's fcm_topic, named
  // without the prefix as FCM v1 wants it.
  std::optional<ApiError> fcm_topic(const std::string& key, const json& v) {
    if (!v.is_string()) return fail(at(key), "must be a string");
    if (out_.native.contains("fcm_topic")) return conflict(key);
    std::string_view name = v.get_ref<const std::string&>();
    if (name.starts_with("/topics/")) name.remove_prefix(std::string_view("/topics/").size());
    return copied(key, json(std::string(name)), "fcm_topic");
  }

  std::optional<ApiError> map_sound_part(const std::string& key, const json& v) {
    if (key == "sound") {
      if (v.is_string()) return copied(key, v, "sound");
      if (ios_ && v.is_object()) {
        sound_dict_ = v;
        return std::nullopt;
      }
      return fail(at(key), ios_ ? "must be a string or an object" : "must be a string");
    }
    if (key == "name") {
      if (!v.is_string()) return fail(at(key), "must be a string");
      sound_name_ = v.get<std::string>();
      return std::nullopt;
    }
    if (!v.is_number()) return fail(at(key), "must be a number");  // volume
    if (v.get<double>() > 0) sound_volume_ = v;
    return std::nullopt;
  }

  std::optional<ApiError> map_alert(const json& v) {
    if (!v.is_object()) return fail(at("alert"), "must be an object");
    json alert = json::object();
    for (const auto& [k, value] : v.items()) {
      const auto p = job::child_path(at("alert"), k);
      if (!contains(kAlertKeys, k)) return fail(p, job::unknown_field_message(k, kAlertKeys));
      if (is_unset(value) || value == 0) continue;
      alert[k] = value;
    }
    if (!alert.empty()) aps_["alert"] = std::move(alert);
    return std::nullopt;
  }

  std::optional<ApiError> map_fcm_notification(const json& v) {
    if (!v.is_object()) return fail(at("notification"), "must be an object");
    json notification = json::object();
    for (const auto& [k, value] : v.items()) {
      const auto p = job::child_path(at("notification"), k);
      const auto known = kFcmNotificationKeys.find(k);
      if (known == kFcmNotificationKeys.end()) {
        std::vector<std::string_view> names;
        for (const auto& [name, ignored] : kFcmNotificationKeys) names.push_back(name);
        return fail(p, job::unknown_field_message(k, names));
      }
      if (is_unset(value)) continue;
      if (k == "badge") {  // a string in the legacy API, an integer in FCM v1
        if (!value.is_string()) return fail(p, "must be a string of digits");
        const auto& s = value.get_ref<const std::string&>();
        if (s.size() > 9 || !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; })) {
          return fail(p, "must be a string of digits");
        }
        notification["notification_count"] = std::stoi(s);
        continue;
      }
      notification[std::string(known->second)] = value;
    }
    if (!notification.empty()) legacy_android_["notification"] = std::move(notification);
    return std::nullopt;
  }

  std::optional<ApiError> finish() {
    if (to_) {
      json tokens = out_.native.value("tokens", json::array());
      if (!tokens.is_array()) return std::nullopt;  // decode reports tokens' type
      out_.to_index = tokens.size();
      tokens.push_back(*to_);
      out_.native["tokens"] = std::move(tokens);
    }
    const bool targeted = out_.native.contains("fcm_topic") || out_.native.contains("condition");
    // Clients that serialise every field send "tokens": [] beside a topic or condition.
    if (targeted && out_.native.contains("tokens") && out_.native["tokens"] == json::array()) {
      out_.native.erase("tokens");
    }
    if (!targeted && !out_.native.contains("tokens")) return fail(at("tokens"), "is required");

    if (sound_dict_ || sound_name_ || sound_volume_) {
      json sound = sound_dict_.value_or(json::object());
      if (!sound_dict_ && out_.native.contains("sound")) sound["name"] = out_.native["sound"];
      if (sound_name_) sound["name"] = *sound_name_;
      if (sound_volume_) sound["volume"] = *sound_volume_;
      out_.native.erase("sound");
      aps_["sound"] = std::move(sound);
    }
    if (!aps_.empty()) out_.native["apns"] = {{"payload", {{"aps", aps_}}}};

    if (!legacy_android_.empty()) {
      json android = legacy_android_;
      if (fcm_.contains("android")) android.merge_patch(fcm_["android"]);  // v1 fields win
      fcm_["android"] = std::move(android);
    }
    if (!fcm_.empty()) out_.native["fcm"] = fcm_;
    return std::nullopt;
  }

  const json& g_;
  std::string path_;
  bool ios_ = true;
  Mapped out_;
  json aps_ = json::object();             // → apns.payload.aps
  json fcm_ = json::object();             // → fcm
  json legacy_android_ = json::object();  // legacy FCM fields → fcm.android
  std::optional<std::string> to_;
  std::optional<json> sound_dict_;
  std::optional<std::string> sound_name_;
  std::optional<json> sound_volume_;
};

// Errors found after mapping name pushgw fields; give them gorush's names back.
std::string gorush_path(const std::string& path, const std::string& base, const Mapped& m) {
  if (m.to_index) {
    const auto to_token = job::index_path(job::child_path(base, "tokens"), *m.to_index);
    if (path == to_token) return job::child_path(base, "to");
  }
  for (const auto& [native, original] : m.renamed) {
    const auto prefix = job::child_path(base, native);
    if (path == prefix) return job::child_path(base, original);
    if (path.starts_with(prefix) && (path[prefix.size()] == '.' || path[prefix.size()] == '[')) {
      return job::child_path(base, original) + path.substr(prefix.size());
    }
  }
  return path;
}

}  // namespace

std::variant<ParsedPush, ApiError> parse_gorush_request(std::string_view body,
                                                        const job::ValidationContext& ctx) {
  auto envelope = parse_notifications_envelope(body, ctx);
  if (auto* e = std::get_if<ApiError>(&envelope)) return std::move(*e);
  const json* list = &std::get<json>(envelope)["notifications"];

  ParsedPush push;
  push.notifications.reserve(list->size());
  for (std::size_t i = 0; i < list->size(); ++i) {
    const auto path = job::index_path("notifications", i);
    auto mapped = NotificationMapper((*list)[i], path).map();
    if (auto* e = std::get_if<ApiError>(&mapped)) return std::move(*e);
    const auto& m = std::get<Mapped>(mapped);

    auto decoded = job::decode_notification(m.native, path);
    if (auto* e = std::get_if<job::FieldError>(&decoded)) {
      return ApiError{400, e->message, gorush_path(e->path, path, m)};
    }
    auto& n = std::get<job::Notification>(decoded);
    if (auto e = check_notification(n, ctx, path)) {
      e->path = gorush_path(e->path, path, m);
      return std::move(*e);
    }
    push.token_count += n.tokens.size();
    push.notifications.push_back(std::move(n));
  }
  return push;
}

json gorush_success_response(const ParsedPush& push) {
  return {{"counts", push.token_count}, {"logs", json::array()}, {"success", "ok"}};
}

json gorush_error_response(const ApiError& error) {
  return {{"code", error.status},
          {"message", error.path.empty() ? error.error : error.path + ": " + error.error}};
}

}  // namespace pushgw::api
