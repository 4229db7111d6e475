#include "pushgw/job/validate.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "pushgw/common/hex.hpp"
#include "pushgw/common/quote.hpp"
#include "pushgw/job/codec.hpp"

namespace pushgw::job {

namespace {

using MaybeError = std::optional<FieldError>;

bool is_fcm_token_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         c == '_' || c == ':' || c == '-' || c == '.';
}

char to_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string lowercase(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), to_lower);
  return out;
}

bool is_push_type(std::string_view s) { return find_apns_push_type(s) != nullptr; }

std::string push_type_names() {
  std::string out;
  for (const auto& type : kApnsPushTypes) {
    if (!out.empty()) out += ", ";
    out += type.name;
  }
  return out;
}

std::string configured_apps(const ValidationContext& ctx) {
  std::string out;
  for (const auto& [name, providers] : ctx.apps) {
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out;
}

MaybeError check_app(const Notification& n, const ValidationContext& ctx, const std::string& path) {
  const auto app_path = child_path(path, "app");
  if (ctx.apps.empty()) return FieldError{app_path, "no apps are configured"};
  if (n.app.empty()) {
    if (ctx.apps.size() == 1) return std::nullopt;
    return FieldError{app_path, "is required when several apps are configured (" +
                                    configured_apps(ctx) + ")"};
  }
  if (!ctx.apps.contains(n.app)) {
    return FieldError{app_path, "unknown app " + common::quote(n.app) + " (configured: " +
                                    configured_apps(ctx) + ")"};
  }
  return std::nullopt;
}

MaybeError check_provider(const Notification& n, const ValidationContext& ctx,
                          const std::string& path) {
  const auto app = resolve_app(n, ctx);
  const auto& providers = ctx.apps.find(*app)->second;
  if (n.platform == Platform::web) {
    if (providers.web) return std::nullopt;
    return FieldError{child_path(path, "platform"), "live web delivery is off (web.enabled: false)"};
  }
  const bool ok = n.platform == Platform::ios ? providers.apns : providers.fcm;
  if (ok) return std::nullopt;
  const char* provider = n.platform == Platform::ios ? "apns" : "fcm";
  return FieldError{child_path(path, "platform"),
                    "app " + common::quote(*app) + " has no " + provider + " configured, so it " +
                        "cannot send to " + std::string(to_string(n.platform))};
}

// The tokens of one notification seen so far, for finding duplicates: open addressing over
// token indexes, hashed eight bytes at a time, so no node and no lowercased copy per token (a
// 500-token job made 1000 allocations here).
class TokenSet {
 public:
  // fold_case: tokens are hex (checked before insert()), compared ignoring case.
  TokenSet(const std::vector<std::string>& tokens, bool fold_case)
      : tokens_(tokens), fold_case_(fold_case), hashes_(tokens.size()) {
    std::size_t size = 16;
    while (size < 2 * tokens.size()) size *= 2;
    slots_.assign(size, 0);
  }

  // Adds tokens_[i]; returns the index of an earlier equal token instead, if there is one.
  std::optional<std::size_t> insert(std::size_t i) {
    const std::string_view token = tokens_[i];
    const std::uint64_t h = hashes_[i] = hash(token);
    const std::size_t mask = slots_.size() - 1;
    for (std::size_t slot = h & mask;; slot = (slot + 1) & mask) {
      if (slots_[slot] == 0) {
        slots_[slot] = i + 1;
        return std::nullopt;
      }
      const std::size_t other = slots_[slot] - 1;
      if (hashes_[other] == h && equal(tokens_[other], token)) return other;
    }
  }

 private:
  // Hex digits differ from their other case by 0x20 only, and digits already have that bit.
  std::uint64_t fold(std::uint64_t bytes) const { return fold_case_ ? bytes | 0x2020202020202020ull : bytes; }
  char fold(char c) const { return fold_case_ ? static_cast<char>(c | 0x20) : c; }

  std::uint64_t hash(std::string_view token) const {
    std::uint64_t h = token.size();
    std::size_t k = 0;
    for (; k + 8 <= token.size(); k += 8) {
      std::uint64_t word;
      std::memcpy(&word, token.data() + k, 8);
      h = (h ^ fold(word)) * 0x9E3779B97F4A7C15ull;
      h ^= h >> 29;
    }
    for (; k < token.size(); ++k) h = (h ^ static_cast<unsigned char>(fold(token[k]))) * 0x100000001B3ull;
    // MurmurHash3's finaliser: the slot is the low bits, and tokens that differ only in their
    // last characters differ only in the high bits until this point.
    h ^= h >> 33;
    h *= 0xFF51AFD7ED558CCDull;
    h ^= h >> 33;
    h *= 0xC4CEB9FE1A85EC53ull;
    return h ^ (h >> 33);
  }

  bool equal(std::string_view a, std::string_view b) const {
    if (a.size() != b.size()) return false;
    for (std::size_t k = 0; k < a.size(); ++k) {
      if (fold(a[k]) != fold(b[k])) return false;
    }
    return true;
  }

  const std::vector<std::string>& tokens_;
  const bool fold_case_;
  std::vector<std::uint64_t> hashes_;  // of the tokens inserted
  std::vector<std::size_t> slots_;     // token index + 1; 0 = empty
};

// A notification sent to one FCM topic or condition, or one APNs broadcast channel.
MaybeError check_target(const Notification& n, const std::string& path) {
  const auto target_path = child_path(path, field_name(n.target));
  if (n.tokens.size() != 1) return FieldError{target_path, "must be one value"};
  const bool android = n.target != Target::apns_channel;
  if (n.platform != (android ? Platform::android : Platform::ios)) {
    return FieldError{target_path, android ? "is for platform android (an FCM target)"
                                           : "is for platform ios (an APNs broadcast channel)"};
  }
  const auto problem = n.target == Target::fcm_topic       ? check_fcm_topic(n.tokens[0])
                       : n.target == Target::fcm_condition ? check_fcm_condition(n.tokens[0])
                                                           : check_apns_channel_id(n.tokens[0]);
  if (problem) return FieldError{target_path, *problem};
  return std::nullopt;
}

MaybeError check_tokens(const Notification& n, const ValidationContext& ctx,
                        const std::string& path) {
  if (n.target != Target::tokens) return check_target(n, path);
  const auto tokens_path = child_path(path, "tokens");
  if (n.tokens.empty()) return FieldError{tokens_path, "must not be empty"};
  const auto limit = ctx.limits.max_tokens_per_notification;
  if (n.tokens.size() > limit) {
    return FieldError{tokens_path, "has " + std::to_string(n.tokens.size()) +
                                       " tokens; the limit is " + std::to_string(limit) +
                                       " per notification"};
  }
  // APNs tokens are hex: "AB.." and "ab.." reach the same device, so compare them lowercased.
  const bool fold_case = n.platform == Platform::ios;
  TokenSet seen(n.tokens, fold_case);
  for (std::size_t i = 0; i < n.tokens.size(); ++i) {
    const auto& token = n.tokens[i];
    const auto problem = n.platform == Platform::ios       ? check_apns_token(token)
                         : n.platform == Platform::android ? check_fcm_token(token)
                                                           : check_web_channel(token);
    if (problem) return FieldError{index_path(tokens_path, i), *problem};
    if (const auto earlier = seen.insert(i)) {
      return FieldError{index_path(tokens_path, i), "duplicates " + index_path("tokens", *earlier)};
    }
  }
  return std::nullopt;
}

MaybeError check_non_negative(const std::optional<std::int64_t>& v, const std::string& path) {
  if (v && *v < 0) return FieldError{path, "must not be negative"};
  return std::nullopt;
}

MaybeError check_unix_seconds(const std::optional<std::int64_t>& v, const std::string& path) {
  if (auto e = check_non_negative(v, path)) return e;
  if (v && *v > kMaxUnixSeconds) {
    return FieldError{path, "must be a unix time in seconds (not milliseconds), at most " +
                                std::to_string(kMaxUnixSeconds)};
  }
  return std::nullopt;
}

MaybeError check_apns_header(std::string_view name, const std::string& value,
                             const std::string& path) {
  const auto lower = lowercase(name);
  const bool name_ok = lower.starts_with("apns-") && lower.size() > 5 &&
                       std::all_of(lower.begin(), lower.end(), [](char c) {
                         return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
                       });
  if (!name_ok) return FieldError{path, "only apns-* request headers can be passed through"};
  if (lower == "apns-id") return FieldError{path, "is assigned by pushgw for each send"};
  if (value.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos) {
    return FieldError{path, "must not contain CR, LF or NUL"};
  }
  if (lower == "apns-push-type" && !is_push_type(value)) {
    return FieldError{path, "must be one of " + push_type_names()};
  }
  if (lower == "apns-priority" && value != "10" && value != "5" && value != "1") {
    return FieldError{path, R"(must be "10", "5" or "1")"};
  }
  if (lower == "apns-expiration" &&
      (value.empty() || value.size() > 19 ||
       !std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; }))) {
    return FieldError{path, "must be a unix time in seconds (digits only)"};
  }
  if (lower == "apns-collapse-id" && value.size() > kMaxCollapseIdBytes) {
    return FieldError{path, "must be at most 64 bytes"};
  }
  if (lower == "apns-topic" && value.empty()) return FieldError{path, "must not be empty"};
  return std::nullopt;
}

MaybeError check_apns_passthrough(const nlohmann::json& apns, const std::string& path) {
  // decode_notification checked these shapes; a Notification built in code may not have been.
  if (!apns.is_object()) return FieldError{path, "must be an object"};
  if (const auto h = apns.find("headers"); h != apns.end()) {
    const auto headers_path = child_path(path, "headers");
    if (!h->is_object()) return FieldError{headers_path, "must be an object of strings"};
    for (const auto& [name, value] : h->items()) {
      const auto header_path = child_path(headers_path, name);
      if (!value.is_string()) return FieldError{header_path, "must be a string"};
      if (auto e = check_apns_header(name, value.get_ref<const std::string&>(), header_path)) {
        return e;
      }
    }
  }
  if (const auto p = apns.find("payload"); p != apns.end()) {
    if (const auto aps = p->find("aps"); aps != p->end() && !aps->is_object()) {
      return FieldError{child_path(child_path(path, "payload"), "aps"), "must be an object"};
    }
  }
  return std::nullopt;
}

// ActivityKit's requirements for each event ("Starting and updating Live Activities with
// ActivityKit push notifications"), which a device enforces by silently dropping the push.
MaybeError check_live_activity(const Notification& n, const std::string& path) {
  const auto la_path = child_path(path, "live_activity");
  if (!n.live_activity) {
    // A pass-through aps with an event carries its own ActivityKit fields.
    if (n.apns && n.apns->is_object()) {
      const auto payload = n.apns->find("payload");
      if (payload != n.apns->end() && payload->is_object()) {
        const auto aps = payload->find("aps");
        if (aps != payload->end() && aps->is_object() && aps->contains("event")) return std::nullopt;
      }
    }
    return FieldError{la_path, "is required for push type liveactivity (event, content_state, ...)"};
  }
  const auto& la = *n.live_activity;
  const auto field = [&](std::string_view key) { return child_path(la_path, key); };
  const auto event_it = la.find("event");
  if (event_it == la.end()) return FieldError{field("event"), R"(is required: "start", "update" or "end")"};
  const std::string& event = event_it->get_ref<const std::string&>();
  if (event != "start" && event != "update" && event != "end") {
    return FieldError{field("event"), R"(must be "start", "update" or "end")"};
  }
  const bool start = event == "start";
  if (event != "end" && !la.contains("content_state")) {
    return FieldError{field("content_state"), "is required to " + event + " a Live Activity"};
  }
  for (const char* key : {"attributes_type", "attributes", "input_push_token", "input_push_channel"}) {
    if (!start && la.contains(key)) return FieldError{field(key), "is only for event start (push-to-start)"};
  }
  if (event != "end" && la.contains("dismissal_date")) {
    return FieldError{field("dismissal_date"), "is only for event end"};
  }
  if (start) {
    if (!la.contains("attributes_type")) return FieldError{field("attributes_type"), "is required to start a Live Activity"};
    if (la.at("attributes_type").get_ref<const std::string&>().empty()) {
      return FieldError{field("attributes_type"), "must name the app's ActivityAttributes type"};
    }
    if (!la.contains("attributes")) return FieldError{field("attributes"), "is required to start a Live Activity"};
    if (!n.title && !n.message) {
      return FieldError{child_path(path, "title"), "or message is required to start a Live Activity (the alert)"};
    }
    if (la.contains("input_push_channel")) {
      if (la.contains("input_push_token")) {
        return FieldError{field("input_push_channel"), "cannot be combined with input_push_token"};
      }
      if (auto problem = check_apns_channel_id(la.at("input_push_channel").get_ref<const std::string&>())) {
        return FieldError{field("input_push_channel"), *problem};
      }
    }
    if (n.target == Target::apns_channel) {
      return FieldError{field("event"), "cannot be start on a broadcast channel (APNs starts Live Activities on "
                                        "push-to-start tokens only)"};
    }
  }
  return std::nullopt;
}

// The apns-priority / apns-topic rules of the push type the notification asks for.
MaybeError check_push_type_rules(const Notification& n, const std::string& path) {
  const auto chosen = explicit_push_type(n);
  if (n.target == Target::apns_channel && chosen != "liveactivity") {
    return FieldError{child_path(path, "push_type"), "must be liveactivity for a broadcast channel"};
  }
  if (!chosen) return std::nullopt;
  const auto* type = find_apns_push_type(*chosen);
  if (!type) return std::nullopt;  // named by apns.headers, checked there
  if (n.live_activity && type->name != "liveactivity") {
    return FieldError{child_path(path, "push_type"), "must be liveactivity (or absent) with live_activity"};
  }
  if (n.priority == Priority::normal && !priority_allowed(*type, "5")) {
    return FieldError{child_path(path, "priority"),
                      "must be high for push type " + std::string(type->name) + " (APNs requires apns-priority 10)"};
  }
  if (const auto header = apns_passthrough_header(n, "apns-priority"); header && !priority_allowed(*type, *header)) {
    return FieldError{child_path(child_path(child_path(path, "apns"), "headers"), "apns-priority"),
                      "must be one of " + std::string(type->priorities) + " for push type " + std::string(type->name)};
  }
  if (type->name == "mdm" && !(n.topic && !n.topic->empty()) && !apns_passthrough_header(n, "apns-topic")) {
    return FieldError{child_path(path, "topic"),
                      "is required for push type mdm: the topic of your MDM push certificate "
                      "(com.apple.mgmt.External.<uuid>), not the app's bundle id"};
  }
  if (type->name == "liveactivity") return check_live_activity(n, path);
  return std::nullopt;
}

}  // namespace

ValidationContext ValidationContext::from_config(const config::Config& config) {
  ValidationContext ctx;
  ctx.limits = config.limits;
  for (const auto& [name, app] : config.apps) {
    ctx.apps.emplace(name, AppProviders{app.apns.has_value(), app.fcm.has_value(), config.web.enabled});
  }
  return ctx;
}

const ApnsPushType* find_apns_push_type(std::string_view name) {
  for (const auto& type : kApnsPushTypes) {
    if (type.name == name) return &type;
  }
  return nullptr;
}

bool priority_allowed(const ApnsPushType& type, std::string_view priority) {
  std::string_view rest = type.priorities;
  while (!rest.empty()) {
    const auto space = rest.find(' ');
    if (rest.substr(0, space) == priority) return true;
    rest = space == std::string_view::npos ? std::string_view() : rest.substr(space + 1);
  }
  return false;
}

std::optional<std::string> apns_passthrough_header(const Notification& n, std::string_view lowercase_name) {
  if (!n.apns || !n.apns->is_object()) return std::nullopt;
  const auto headers = n.apns->find("headers");
  if (headers == n.apns->end() || !headers->is_object()) return std::nullopt;
  for (const auto& [key, value] : headers->items()) {
    if (value.is_string() && lowercase(key) == lowercase_name) return value.get<std::string>();
  }
  return std::nullopt;
}

std::optional<std::string> explicit_push_type(const Notification& n) {
  if (auto header = apns_passthrough_header(n, "apns-push-type")) return header;
  if (n.push_type) return n.push_type;
  if (n.live_activity || n.target == Target::apns_channel) return "liveactivity";
  return std::nullopt;
}

std::optional<std::string> check_fcm_topic(std::string_view topic) {
  if (topic.starts_with("/topics/")) return "must be the topic name without the \"/topics/\" prefix";
  if (topic.empty() || topic.size() > kFcmTopicMaxLength) {
    return "must be an FCM topic name of 1 to 900 characters (got " + std::to_string(topic.size()) + ")";
  }
  const auto bad = std::find_if(topic.begin(), topic.end(), [](char c) {
    return !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
             c == '.' || c == '~' || c == '%');
  });
  if (bad != topic.end()) {
    return "must be an FCM topic name: character " + std::to_string(bad - topic.begin()) +
           " is not one of A-Z a-z 0-9 - _ . ~ %";
  }
  return std::nullopt;
}

namespace {

// FCM's condition language: `'topic' in topics` terms joined by && and ||, negated by !, grouped
// by parentheses. A recursive descent that names the character where it stops.
class ConditionParser {
 public:
  explicit ConditionParser(std::string_view text) : text_(text) {}

  std::optional<std::string> parse() {
    skip_space();
    if (at_end()) return std::string("must be a condition such as 'news' in topics && 'sport' in topics");
    if (auto e = expression(0)) return e;
    skip_space();
    if (!at_end()) return expected("&&, || or the end");
    if (topics_ > kFcmConditionMaxTopics) {
      return "names " + std::to_string(topics_) + " topics; FCM allows at most " +
             std::to_string(kFcmConditionMaxTopics) + " in a condition";
    }
    return std::nullopt;
  }

 private:
  static constexpr int kMaxDepth = 16;

  std::optional<std::string> expression(int depth) {
    if (auto e = term(depth)) return e;
    for (;;) {
      skip_space();
      if (!take("&&") && !take("||")) return std::nullopt;
      if (auto e = term(depth)) return e;
    }
  }

  std::optional<std::string> term(int depth) {
    if (depth > kMaxDepth) return expected("fewer nested parentheses and !");
    skip_space();
    if (take("!")) return term(depth + 1);
    if (take("(")) {
      if (auto e = expression(depth + 1)) return e;
      skip_space();
      if (!take(")")) return expected(")");
      return std::nullopt;
    }
    if (at_end() || text_[pos_] != '\'') return expected("'<topic>' in topics, ! or (");
    const std::size_t start = ++pos_;
    const std::size_t close = text_.find('\'', start);
    if (close == std::string_view::npos) return expected("the closing ' of the topic name");
    if (auto problem = check_fcm_topic(text_.substr(start, close - start))) {
      return "topic at character " + std::to_string(start) + ": " + *problem;
    }
    pos_ = close + 1;
    ++topics_;
    skip_space();
    if (!take("in")) return expected("in topics");
    if (at_end() || (text_[pos_] != ' ' && text_[pos_] != '\t')) return expected("in topics");
    skip_space();
    if (!take("topics")) return expected("in topics");
    return std::nullopt;
  }

  std::string expected(std::string_view what) const {
    return "must be an FCM condition: expected " + std::string(what) + " at character " + std::to_string(pos_);
  }
  bool at_end() const { return pos_ >= text_.size(); }
  void skip_space() {
    while (!at_end() && (text_[pos_] == ' ' || text_[pos_] == '\t')) ++pos_;
  }
  bool take(std::string_view token) {
    if (text_.substr(pos_, token.size()) != token) return false;
    pos_ += token.size();
    return true;
  }

  std::string_view text_;
  std::size_t pos_ = 0;
  std::size_t topics_ = 0;
};

}  // namespace

std::optional<std::string> check_fcm_condition(std::string_view condition) { return ConditionParser(condition).parse(); }

std::optional<std::string> check_apns_channel_id(std::string_view channel_id) {
  if (channel_id.empty() || channel_id.size() > kApnsChannelIdMaxLength) {
    return "must be an APNs channel id (the base64 apns-channel-id of a created channel), 1 to " +
           std::to_string(kApnsChannelIdMaxLength) + " characters";
  }
  const auto bad = std::find_if(channel_id.begin(), channel_id.end(), [](char c) {
    return !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '+' || c == '/' ||
             c == '=');
  });
  if (bad != channel_id.end()) {
    return "must be an APNs channel id: character " + std::to_string(bad - channel_id.begin()) + " is not base64";
  }
  if (channel_id.size() % 4 != 0) return "must be an APNs channel id: base64 of a length divisible by 4";
  return std::nullopt;
}

std::optional<std::string> check_apns_token(std::string_view token) {
  if (token.size() < kApnsTokenMinLength || token.size() > kApnsTokenMaxLength ||
      token.size() % 2 != 0) {
    return "must be an APNs device token: an even number of hex digits, 64 to 200 (got " +
           std::to_string(token.size()) + " characters)";
  }
  if (const auto bad = common::first_non_hex(token); bad != token.size()) {
    return "must be an APNs device token: character " + std::to_string(bad) + " is not a hex digit";
  }
  return std::nullopt;
}

std::optional<std::string> check_fcm_token(std::string_view token) {
  if (token.empty() || token.size() > kFcmTokenMaxLength) {
    return "must be an FCM registration token of 1 to 4096 characters (got " +
           std::to_string(token.size()) + ")";
  }
  const auto bad = std::find_if_not(token.begin(), token.end(), is_fcm_token_char);
  if (bad != token.end()) {
    return "must be an FCM registration token: character " + std::to_string(bad - token.begin()) +
           " is not one of A-Z a-z 0-9 _ : - .";
  }
  return std::nullopt;
}

std::optional<std::string> check_web_channel(std::string_view channel) {
  if (channel.empty() || channel.size() > kWebChannelMaxLength) {
    return "must be a channel name of 1 to 128 characters (got " + std::to_string(channel.size()) + ")";
  }
  const auto bad = std::find_if_not(channel.begin(), channel.end(), is_fcm_token_char);  // the same set
  if (bad != channel.end()) {
    return "must be a channel name: character " + std::to_string(bad - channel.begin()) +
           " is not one of A-Z a-z 0-9 _ : - .";
  }
  return std::nullopt;
}

bool is_trace_id(std::string_view text) {
  if (text.size() != 32 || text.find_first_not_of('0') == std::string_view::npos) return false;
  return text.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

std::optional<std::string> trace_id_of_traceparent(std::string_view header) {
  // version "-" trace-id "-" parent-id "-" flags; a later version may append fields.
  if (header.size() < 55 || header[2] != '-' || header[35] != '-' || header[52] != '-') return std::nullopt;
  const std::string_view version = header.substr(0, 2);
  if (version.find_first_not_of("0123456789abcdef") != std::string_view::npos || version == "ff") return std::nullopt;
  if (version == "00" && header.size() != 55) return std::nullopt;
  const std::string_view trace = header.substr(3, 32);
  const std::string_view parent = header.substr(36, 16);
  if (!is_trace_id(trace) || parent.find_first_not_of("0123456789abcdef") != std::string_view::npos ||
      parent.find_first_not_of('0') == std::string_view::npos) {
    return std::nullopt;
  }
  return std::string(trace);
}

std::optional<std::string> resolve_app(const Notification& n, const ValidationContext& ctx) {
  if (!n.app.empty()) {
    if (ctx.apps.contains(n.app)) return n.app;
    return std::nullopt;
  }
  if (ctx.apps.size() == 1) return ctx.apps.begin()->first;
  return std::nullopt;
}

std::optional<FieldError> validate_notification(const Notification& n,
                                                const ValidationContext& ctx,
                                                const std::string& path) {
  if (auto e = check_app(n, ctx, path)) return e;
  if (auto e = check_provider(n, ctx, path)) return e;
  if (auto e = check_tokens(n, ctx, path)) return e;

  if (n.collapse_id && n.collapse_id->size() > kMaxCollapseIdBytes) {
    return FieldError{child_path(path, "collapse_id"),
                      "must be at most 64 bytes (got " + std::to_string(n.collapse_id->size()) +
                          ")"};
  }
  if (n.trace_id && !is_trace_id(*n.trace_id)) {
    return FieldError{child_path(path, "trace_id"), "must be a W3C trace id: 32 lowercase hex digits, not all zero"};
  }
  if (auto e = check_non_negative(n.badge, child_path(path, "badge"))) return e;
  if (auto e = check_unix_seconds(n.expiration, child_path(path, "expiration"))) return e;
  if (auto e = check_unix_seconds(n.send_at, child_path(path, "send_at"))) return e;
  if (n.push_type && !is_push_type(*n.push_type)) {
    return FieldError{child_path(path, "push_type"), "must be one of " + push_type_names()};
  }
  if (n.id) {
    const auto max = n.job ? kMaxJobIdLength : kMaxIdLength;
    if (n.id->empty() || n.id->size() > max) {
      return FieldError{child_path(path, "id"),
                        "must be 1 to " + std::to_string(max) + " bytes long (got " +
                            std::to_string(n.id->size()) + ")"};
    }
  }
  // Custom data keys sit beside "aps" at the top of the APNs payload.
  if (n.platform == Platform::ios && n.data && n.data->contains("aps")) {
    return FieldError{child_path(child_path(path, "data"), "aps"),
                      "is reserved for the APNs aps dictionary; use apns.payload to set it"};
  }
  if (n.apns) {
    if (auto e = check_apns_passthrough(*n.apns, child_path(path, "apns"))) return e;
  }
  if (n.live_activity && n.platform != Platform::ios) {
    return FieldError{child_path(path, "live_activity"), "is for platform ios (an ActivityKit push)"};
  }
  if (n.platform == Platform::ios) {
    if (auto e = check_push_type_rules(n, path)) return e;
  }
  return std::nullopt;
}

}  // namespace pushgw::job
