#include "pushgw/job/codec.hpp"

#include <algorithm>
#include <cstdint>
#include <limits>

#include "pushgw/common/quote.hpp"
#include "pushgw/job/fast_json.hpp"

namespace pushgw::job {

using nlohmann::json;

namespace {

using MaybeError = std::optional<FieldError>;

bool is_plain_key(std::string_view key) {
  return !key.empty() && std::all_of(key.begin(), key.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '-';
  });
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

// nlohmann's message without its "[json.exception.parse_error.101] " prefix, with the input it
// quotes ("last read: '...'", "number overflow parsing '...'") cut to a few dozen bytes and made
// valid UTF-8: a 100k-digit number or a raw 0xFF byte must give a short, printable message.
std::string bounded_json_error(std::string_view what) {
  if (const auto close = what.find("] "); !what.empty() && what.front() == '[' && close != std::string_view::npos) {
    what.remove_prefix(close + 2);
  }
  // nlohmann's own words, made printable (they are short; the input they quote is not).
  const auto plain = [](std::string& out, std::string_view text) {
    common::append_utf8_sanitized(out, text.substr(0, 200), [](std::string& o, char c) {
      o += (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) ? ' ' : c;
    });
  };
  std::string out;
  const auto open = what.find('\'');
  const auto end = what.rfind('\'');
  if (open == std::string_view::npos || end == open) {
    plain(out, what);
    return out;
  }
  plain(out, what.substr(0, open));
  out += common::quote(what.substr(open + 1, end - open - 1));
  plain(out, what.substr(end + 1));
  return out;
}

// --- typed readers: each checks one JSON value and stores it, or names what is wrong ---

// The readers take the value out of the parsed document (moved, not copied): decoding owns it.
MaybeError read_string(json& v, const std::string& path, std::optional<std::string>& out) {
  if (!v.is_string()) return FieldError{path, "must be a string"};
  out = std::move(v.get_ref<std::string&>());
  return std::nullopt;
}

MaybeError read_int(const json& v, const std::string& path, std::int64_t min, std::int64_t max,
                    std::int64_t& out) {
  auto range_error = [&] {
    return FieldError{path, "must be an integer from " + std::to_string(min) + " to " +
                                std::to_string(max)};
  };
  if (v.is_number_unsigned()) {
    const auto u = v.get<std::uint64_t>();
    if (u > static_cast<std::uint64_t>(max)) return range_error();
    out = static_cast<std::int64_t>(u);
    return std::nullopt;
  }
  if (v.is_number_integer()) {
    const auto i = v.get<std::int64_t>();
    if (i < min || i > max) return range_error();
    out = i;
    return std::nullopt;
  }
  return FieldError{path, "must be an integer"};
}

MaybeError read_int64(json& v, const std::string& path, std::optional<std::int64_t>& out) {
  std::int64_t value = 0;
  if (auto e = read_int(v, path, std::numeric_limits<std::int64_t>::min(),
                        std::numeric_limits<std::int64_t>::max(), value)) {
    return e;
  }
  out = value;
  return std::nullopt;
}

MaybeError read_bool(json& v, const std::string& path, std::optional<bool>& out) {
  if (!v.is_boolean()) return FieldError{path, "must be true or false"};
  out = v.get<bool>();
  return std::nullopt;
}

MaybeError read_object(json& v, const std::string& path, std::optional<json>& out) {
  if (!v.is_object()) return FieldError{path, "must be an object"};
  out = std::move(v);
  return std::nullopt;
}

MaybeError read_tokens(json& v, const std::string& path, std::vector<std::string>& out) {
  if (!v.is_array()) return FieldError{path, "must be an array of strings"};
  out.clear();
  out.reserve(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (!v[i].is_string()) return FieldError{index_path(path, i), "must be a string"};
    out.push_back(std::move(v[i].get_ref<std::string&>()));
  }
  return std::nullopt;
}

MaybeError read_platform(json& v, const std::string& path, Platform& out) {
  const auto p = parse_platform(v);
  if (!p) return FieldError{path, R"(must be "ios", "android" or "web" (or 1/2))"};
  out = *p;
  return std::nullopt;
}

MaybeError read_priority(json& v, const std::string& path, std::optional<Priority>& out) {
  if (v == "high") {
    out = Priority::high;
  } else if (v == "normal") {
    out = Priority::normal;
  } else {
    return FieldError{path, R"(must be "high" or "normal")"};
  }
  return std::nullopt;
}

MaybeError read_lane(json& v, const std::string& path, std::optional<std::string>& out) {
  if (v.is_string()) {
    const auto& s = v.get_ref<const std::string&>();
    if (std::find(std::begin(kLanes), std::end(kLanes), s) != std::end(kLanes)) {
      out = s;
      return std::nullopt;
    }
  }
  return FieldError{path, R"(must be "high", "default" or "bulk")"};
}

// `apns` is {"headers": {name: string}, "payload": {...}}, both optional.
MaybeError read_apns(json& v, const std::string& path, std::optional<json>& out) {
  if (!v.is_object()) return FieldError{path, "must be an object"};
  static constexpr std::string_view kKnown[] = {"headers", "payload"};
  for (const auto& [key, value] : v.items()) {
    const auto p = child_path(path, key);
    if (key == "headers") {
      if (!value.is_object()) return FieldError{p, "must be an object of strings"};
      for (const auto& [name, header] : value.items()) {
        if (!header.is_string()) return FieldError{child_path(p, name), "must be a string"};
      }
    } else if (key == "payload") {
      if (!value.is_object()) return FieldError{p, "must be an object"};
    } else {
      return FieldError{p, unknown_field_message(key, kKnown)};
    }
  }
  out = std::move(v);
  return std::nullopt;
}

// A target given instead of tokens (fcm_topic, condition, channel): held as the only token.
MaybeError read_target(json& v, const std::string& path, Target target, Notification& n) {
  if (!v.is_string()) return FieldError{path, "must be a string"};
  if (n.target != Target::tokens) {
    return FieldError{path, "cannot be combined with " + std::string(field_name(n.target)) +
                                ": a notification goes to one topic, condition or channel"};
  }
  n.target = target;
  n.tokens.assign(1, std::move(v.get_ref<std::string&>()));
  return std::nullopt;
}

// live_activity: the ActivityKit fields, by type; which ones an event needs is validation's.
MaybeError read_live_activity(json& v, const std::string& path, std::optional<json>& out) {
  if (!v.is_object()) return FieldError{path, "must be an object"};
  enum class Kind { string, object, unix_seconds, number, boolean };
  static constexpr std::pair<std::string_view, Kind> kKeys[] = {
      {"event", Kind::string},          {"content_state", Kind::object},  {"timestamp", Kind::unix_seconds},
      {"stale_date", Kind::unix_seconds}, {"dismissal_date", Kind::unix_seconds},
      {"relevance_score", Kind::number}, {"attributes_type", Kind::string}, {"attributes", Kind::object},
      {"input_push_token", Kind::boolean}, {"input_push_channel", Kind::string}};
  static const std::vector<std::string_view> kNames = [] {
    std::vector<std::string_view> names;
    for (const auto& key : kKeys) names.push_back(key.first);
    return names;
  }();
  for (auto it = v.begin(); it != v.end(); ++it) {
    const auto p = child_path(path, it.key());
    const auto* key = std::find_if(std::begin(kKeys), std::end(kKeys),
                                   [&](const auto& k) { return k.first == it.key(); });
    if (key == std::end(kKeys)) return FieldError{p, unknown_field_message(it.key(), kNames)};
    const json& value = *it;
    switch (key->second) {
      case Kind::string:
        if (!value.is_string()) return FieldError{p, "must be a string"};
        break;
      case Kind::object:
        if (!value.is_object()) return FieldError{p, "must be an object"};
        break;
      case Kind::unix_seconds: {
        std::int64_t seconds = 0;
        if (auto e = read_int(value, p, 0, std::numeric_limits<std::int64_t>::max(), seconds)) return e;
        break;
      }
      case Kind::number:
        if (!value.is_number()) return FieldError{p, "must be a number"};
        break;
      case Kind::boolean:
        if (!value.is_boolean()) return FieldError{p, "must be true or false"};
        break;
    }
  }
  out = std::move(v);
  return std::nullopt;
}

MaybeError read_job_meta(json& v, const std::string& path, std::optional<JobMeta>& out) {
  if (!v.is_object()) return FieldError{path, "must be an object"};
  static constexpr std::string_view kKnown[] = {"id", "enqueued_ms", "attempt", "redeliveries"};
  JobMeta meta;
  bool has_id = false;
  constexpr auto kIntMax = static_cast<std::int64_t>(std::numeric_limits<int>::max());
  for (auto it = v.begin(); it != v.end(); ++it) {
    const std::string& key = it.key();
    json& value = it.value();
    const auto p = child_path(path, key);
    std::int64_t number = 0;
    if (key == "id") {
      if (!value.is_string() || value.get_ref<const std::string&>().empty()) {
        return FieldError{p, "must be a non-empty string"};
      }
      meta.id = std::move(value.get_ref<std::string&>());
      has_id = true;
    } else if (key == "enqueued_ms") {
      if (auto e = read_int(value, p, 0, std::numeric_limits<std::int64_t>::max(), number)) return e;
      meta.enqueued_ms = number;
    } else if (key == "attempt") {
      if (auto e = read_int(value, p, 0, kIntMax, number)) return e;
      meta.attempt = static_cast<int>(number);
    } else if (key == "redeliveries") {
      if (auto e = read_int(value, p, 0, kIntMax, number)) return e;
      meta.redeliveries = static_cast<int>(number);
    } else {
      return FieldError{p, unknown_field_message(key, kKnown)};
    }
  }
  if (!has_id) return FieldError{child_path(path, "id"), "is required"};
  out = std::move(meta);
  return std::nullopt;
}

// One entry per Notification field: its JSON name and how to read it.
struct FieldSpec {
  std::string_view name;
  MaybeError (*read)(json& v, const std::string& path, Notification& n);
};

const FieldSpec kFields[] = {
    {"platform", [](json& v, const std::string& p, Notification& n) { return read_platform(v, p, n.platform); }},
    {"tokens", [](json& v, const std::string& p, Notification& n) { return read_tokens(v, p, n.tokens); }},
    {"app", [](json& v, const std::string& p, Notification& n) -> MaybeError {
       if (!v.is_string()) return FieldError{p, "must be a string"};
       n.app = std::move(v.get_ref<std::string&>());
       return std::nullopt;
     }},
    {"title", [](json& v, const std::string& p, Notification& n) { return read_string(v, p, n.title); }},
    {"message", [](json& v, const std::string& p, Notification& n) { return read_string(v, p, n.message); }},
    {"badge", [](json& v, const std::string& p, Notification& n) { return read_int64(v, p, n.badge); }},
    {"sound", [](json& v, const std::string& p, Notification& n) { return read_string(v, p, n.sound); }},
    {"category", [](json& v, const std::string& p, Notification& n) { return read_string(v, p, n.category); }},
    {"thread_id", [](json& v, const std::string& p, Notification& n) { return read_string(v, p, n.thread_id); }},
    {"image", [](json& v, const std::string& p, Notification& n) { return read_string(v, p, n.image); }},
    {"data", [](json& v, const std::string& p, Notification& n) { return read_object(v, p, n.data); }},
    {"priority", [](json& v, const std::string& p, Notification& n) { return read_priority(v, p, n.priority); }},
    {"collapse_id", [](json& v, const std::string& p, Notification& n) { return read_string(v, p, n.collapse_id); }},
    {"expiration", [](json& v, const std::string& p, Notification& n) { return read_int64(v, p, n.expiration); }},
    {"push_type", [](json& v, const std::string& p, Notification& n) { return read_string(v, p, n.push_type); }},
    {"content_available", [](json& v, const std::string& p, Notification& n) { return read_bool(v, p, n.content_available); }},
    {"mutable_content", [](json& v, const std::string& p, Notification& n) { return read_bool(v, p, n.mutable_content); }},
    {"topic", [](json& v, const std::string& p, Notification& n) { return read_string(v, p, n.topic); }},
    {"fcm_topic", [](json& v, const std::string& p, Notification& n) { return read_target(v, p, Target::fcm_topic, n); }},
    {"condition", [](json& v, const std::string& p, Notification& n) { return read_target(v, p, Target::fcm_condition, n); }},
    {"channel", [](json& v, const std::string& p, Notification& n) { return read_target(v, p, Target::apns_channel, n); }},
    {"live_activity", [](json& v, const std::string& p, Notification& n) { return read_live_activity(v, p, n.live_activity); }},
    {"apns", [](json& v, const std::string& p, Notification& n) { return read_apns(v, p, n.apns); }},
    {"fcm", [](json& v, const std::string& p, Notification& n) { return read_object(v, p, n.fcm); }},
    {"id", [](json& v, const std::string& p, Notification& n) { return read_string(v, p, n.id); }},
    {"lane", [](json& v, const std::string& p, Notification& n) { return read_lane(v, p, n.lane); }},
    {"send_at", [](json& v, const std::string& p, Notification& n) { return read_int64(v, p, n.send_at); }},
    {"trace_id", [](json& v, const std::string& p, Notification& n) { return read_string(v, p, n.trace_id); }},
    {"job", [](json& v, const std::string& p, Notification& n) { return read_job_meta(v, p, n.job); }},
};

const std::vector<std::string_view>& field_names() {
  static const std::vector<std::string_view> names = [] {
    std::vector<std::string_view> out;
    for (const auto& f : kFields) out.push_back(f.name);
    return out;
  }();
  return names;
}

// Finds the deepest nesting of [ and { outside strings; reports the byte where kMaxJsonDepth
// is first exceeded. Malformed text only needs to be counted roughly: the parser rejects it.
std::optional<std::size_t> too_deep_at(std::string_view text) {
  std::size_t depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxJsonDepth) return i;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return std::nullopt;
}

}  // namespace

std::string child_path(std::string_view parent, std::string_view key) {
  std::string out(parent);
  if (key.size() > kMaxQuotedKeyBytes) {
    // A path names where the problem is; a megabyte key would make it a megabyte long.
    out += '[';
    out += common::quote(key, kMaxQuotedKeyBytes);
    out += ']';
  } else if (is_plain_key(key)) {
    if (!out.empty()) out += '.';
    out += key;
  } else {
    out += '[';
    out += dump_compact(json(std::string(key)));
    out += ']';
  }
  return out;
}

std::string index_path(std::string_view parent, std::size_t index) {
  std::string out(parent);
  out += '[';
  out += std::to_string(index);
  out += ']';
  return out;
}

std::string unknown_field_message(std::string_view key, std::span<const std::string_view> known) {
  std::string message = "unknown field " + common::quote(key, kMaxQuotedKeyBytes);
  // A suggestion only for names of a plausible length: the distance costs key × name steps.
  if (key.size() > kMaxQuotedKeyBytes) return message;
  std::string_view best;
  std::size_t best_distance = 3;  // suggest only names at most 2 edits away
  for (auto name : known) {
    const auto d = edit_distance(key, name);
    if (d < best_distance) {
      best_distance = d;
      best = name;
    }
  }
  if (!best.empty()) message += " (did you mean \"" + std::string(best) + "\"?)";
  return message;
}

std::string dump_compact(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string web_notification_json(const Notification& n) {
  json j = json::object();
  if (n.id) j["id"] = *n.id;
  if (n.title) j["title"] = *n.title;
  if (n.message) j["message"] = *n.message;
  if (n.image) j["image"] = *n.image;
  if (n.sound) j["sound"] = *n.sound;
  if (n.badge) j["badge"] = *n.badge;
  if (n.category) j["category"] = *n.category;
  if (n.data) j["data"] = *n.data;
  return dump_compact(j);
}

std::optional<Platform> parse_platform(const json& j) {
  if (j.is_string()) {
    if (j == "ios") return Platform::ios;
    if (j == "android") return Platform::android;
    if (j == "web") return Platform::web;
  } else if (j.is_number_integer()) {  // gorush's numbering; 1.0 is not accepted
    if (j == 1) return Platform::ios;
    if (j == 2) return Platform::android;
  }
  return std::nullopt;
}

std::variant<json, FieldError> parse_json(std::string_view text) {
  if (auto fast = read_json_fast(text, kMaxJsonDepth)) return std::move(*fast);
  // nlohmann takes a NUL byte for the end of the input: `{...}\0garbage` would pass as JSON.
  // JSON has no raw NUL anywhere (inside strings it is written \u0000).
  if (const auto nul = text.find('\0'); nul != std::string_view::npos) {
    return FieldError{"", "invalid JSON at byte " + std::to_string(nul + 1) + ": a NUL byte"};
  }
  // What the fast reader declines, nlohmann reads, and reports if it is not JSON.
  if (const auto at = too_deep_at(text)) {
    return FieldError{"", "invalid JSON at byte " + std::to_string(*at) + ": nested deeper than " +
                              std::to_string(kMaxJsonDepth) + " levels"};
  }
  try {
    return json::parse(text);
  } catch (const json::exception& e) {
    // parse_error (not JSON, invalid UTF-8), out_of_range (a number beyond double, "1e400"),
    // and any other of nlohmann's: every one is bad input, reported and never thrown on.
    const std::size_t byte = [&]() -> std::size_t {
      if (const auto* pe = dynamic_cast<const json::parse_error*>(&e)) return pe->byte;
      return 0;
    }();
    return FieldError{"", "invalid JSON" + (byte > 0 ? " at byte " + std::to_string(byte) : std::string()) + ": " +
                              bounded_json_error(e.what())};
  }
}

std::variant<Notification, FieldError> decode_notification(json&& j, const std::string& path) {
  if (!j.is_object()) return FieldError{path, "must be an object"};
  Notification n;
  bool has_platform = false;
  bool has_tokens = false;
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& key = it.key();
    json& value = it.value();
    const auto* spec = std::find_if(std::begin(kFields), std::end(kFields),
                                    [&](const FieldSpec& f) { return f.name == key; });
    const auto p = child_path(path, key);
    if (spec == std::end(kFields)) return FieldError{p, unknown_field_message(key, field_names())};
    if (value.is_null()) continue;  // absent; required fields are checked below
    if (auto e = spec->read(value, p, n)) return *e;
    has_platform = has_platform || key == "platform";
    has_tokens = has_tokens || key == "tokens";
  }
  if (!has_platform) return FieldError{child_path(path, "platform"), "is required"};
  if (n.target != Target::tokens) {
    if (has_tokens) {
      return FieldError{child_path(path, field_name(n.target)),
                        "cannot be combined with tokens: a notification goes to tokens or to one target"};
    }
  } else if (!has_tokens) {
    return FieldError{child_path(path, "tokens"), "is required (or fcm_topic, condition, channel)"};
  }
  return n;
}

std::variant<Notification, FieldError> decode_notification(const json& j, const std::string& path) {
  return decode_notification(json(j), path);
}

json encode_notification(const Notification& n) {
  json j = json::object();
  j["platform"] = to_string(n.platform);
  if (n.target == Target::tokens) {
    j["tokens"] = n.tokens;
  } else if (!n.tokens.empty()) {
    j[std::string(field_name(n.target))] = n.tokens.front();
  }
  if (!n.app.empty()) j["app"] = n.app;
  auto put = [&j](const char* key, const auto& field) {
    if (field) j[key] = *field;
  };
  put("title", n.title);
  put("message", n.message);
  put("badge", n.badge);
  put("sound", n.sound);
  put("category", n.category);
  put("thread_id", n.thread_id);
  put("image", n.image);
  put("data", n.data);
  if (n.priority) j["priority"] = to_string(*n.priority);
  put("collapse_id", n.collapse_id);
  put("expiration", n.expiration);
  put("push_type", n.push_type);
  put("content_available", n.content_available);
  put("mutable_content", n.mutable_content);
  put("topic", n.topic);
  put("live_activity", n.live_activity);
  put("apns", n.apns);
  put("fcm", n.fcm);
  put("id", n.id);
  put("lane", n.lane);
  put("send_at", n.send_at);
  put("trace_id", n.trace_id);
  if (n.job) {
    j["job"] = {{"id", n.job->id},
                {"enqueued_ms", n.job->enqueued_ms},
                {"attempt", n.job->attempt},
                {"redeliveries", n.job->redeliveries}};
  }
  return j;
}

std::string encode_job_string(const Notification& n) { return dump_compact(encode_notification(n)); }

std::variant<std::vector<Notification>, FieldError> decode_job_string(std::string_view text) {
  auto parsed = parse_json(text);
  if (auto* e = std::get_if<FieldError>(&parsed)) return std::move(*e);
  auto& j = std::get<json>(parsed);

  std::vector<Notification> out;
  if (!j.is_object() || !j.contains("notifications")) {
    auto one = decode_notification(std::move(j), "");
    if (auto* e = std::get_if<FieldError>(&one)) return std::move(*e);
    out.push_back(std::move(std::get<Notification>(one)));
    return out;
  }

  static constexpr std::string_view kKnown[] = {"notifications"};
  for (const auto& [key, value] : j.items()) {
    if (key != "notifications") return FieldError{child_path("", key), unknown_field_message(key, kKnown)};
  }
  auto& list = j["notifications"];
  if (!list.is_array()) return FieldError{"notifications", "must be an array"};
  if (list.empty()) return FieldError{"notifications", "must not be empty"};
  out.reserve(list.size());
  for (std::size_t i = 0; i < list.size(); ++i) {
    auto one = decode_notification(std::move(list[i]), index_path("notifications", i));
    if (auto* e = std::get_if<FieldError>(&one)) return std::move(*e);
    out.push_back(std::move(std::get<Notification>(one)));
  }
  return out;
}

}  // namespace pushgw::job
