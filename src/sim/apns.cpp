#include "pushgw/sim/apns.hpp"

#include <array>
#include <chrono>
#include <random>

#include <nlohmann/json.hpp>

#include "pushgw/common/hex.hpp"
#include "pushgw/sim/stats.hpp"

namespace pushgw::sim::apns {

namespace {

constexpr std::array<TokenOutcome, 8> outcomes{{
    {"0400", 400, "BadDeviceToken", false, false},
    {"0403", 400, "DeviceTokenNotForTopic", false, false},
    {"0408", 0, "", true, false},
    {"0410", 410, "Unregistered", false, false},
    {"0411", 410, "ExpiredToken", false, false},
    {"0429", 429, "TooManyRequests", false, true},
    {"0500", 500, "InternalServerError", false, false},
    {"0503", 503, "ServiceUnavailable", false, false},
}};

bool all_digits(std::string_view text) {
  if (text.empty()) return false;
  for (const char c : text) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

std::mt19937_64& random_engine() {
  thread_local std::mt19937_64 engine{std::random_device{}()};
  return engine;
}

std::string_view default_reason(int status) {
  switch (status) {
    case 400: return "BadDeviceToken";
    case 403: return "Forbidden";
    case 404: return "BadPath";
    case 405: return "MethodNotAllowed";
    case 410: return "Unregistered";
    case 413: return "PayloadTooLarge";
    case 429: return "TooManyRequests";
    case 503: return "ServiceUnavailable";
    default: return "InternalServerError";
  }
}

std::int64_t unix_millis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// An APNs error answer: {"reason": ...}, plus the timestamp for 410.
void answer_error(Response& response, int status, std::string_view reason) {
  response.status = status;
  response.reason = std::string(reason);
  nlohmann::json body = {{"reason", reason}};
  if (status == 410) body["timestamp"] = unix_millis();
  response.set_json(status, body.dump());
}

}  // namespace

std::span<const TokenOutcome> token_outcomes() { return outcomes; }

const TokenOutcome* outcome_for_token(std::string_view token) {
  for (const auto& outcome : outcomes) {
    if (token.substr(0, outcome.prefix.size()) == outcome.prefix) return &outcome;
  }
  return nullptr;
}

bool valid_device_token(std::string_view token) {
  if (token.size() < 64 || token.size() > 200 || token.size() % 2 != 0) return false;
  for (const char c : token) {
    if (!common::is_hex_digit(c)) return false;
  }
  return true;
}

bool valid_push_type(std::string_view push_type) {
  static constexpr std::array<std::string_view, 11> types{
      "alert",  "background", "location",    "voip",       "complication", "fileprovider",
      "mdm",    "liveactivity", "pushtotalk", "controls",  "widgets"};
  for (const auto type : types) {
    if (push_type == type) return true;
  }
  return false;
}

std::string_view push_type_problem(std::string_view push_type, std::string_view topic, std::string_view priority) {
  struct Rule {
    std::string_view type, suffix, priorities;
  };
  // Apple's table of push types: the topic each needs and the priorities it takes.
  static constexpr Rule rules[] = {
      {"background", "", "5"},
      {"location", ".location-query", "10,5"},
      {"voip", ".voip", "10,5,1"},
      {"complication", ".complication", "10,5"},
      {"fileprovider", ".pushkit.fileprovider", "10,5,1"},
      {"liveactivity", ".push-type.liveactivity", "10,5"},
      {"pushtotalk", ".voip-ptt", "10"},
      {"widgets", ".push-type.widgets", "10,5,1"},
      {"controls", ".push-type.controls", "10,5,1"},
  };
  const auto ends_with = [](std::string_view text, std::string_view end) {
    return text.size() >= end.size() && text.substr(text.size() - end.size()) == end;
  };
  if (push_type == "mdm") return topic.substr(0, 15) == "com.apple.mgmt." ? "" : "TopicDisallowed";
  for (const auto& rule : rules) {
    if (rule.type != push_type) continue;
    if (!rule.suffix.empty() && !ends_with(topic, rule.suffix)) return "TopicDisallowed";
    // An absent apns-priority is 10.
    const std::string_view given = priority.empty() ? "10" : priority;
    for (std::size_t at = 0; at < rule.priorities.size();) {
      const std::size_t comma = std::min(rule.priorities.find(',', at), rule.priorities.size());
      if (rule.priorities.substr(at, comma - at) == given) return "";
      at = comma + 1;
    }
    return "BadPriority";
  }
  return "";
}

std::string_view live_activity_problem(const nlohmann::json& payload, bool broadcast) {
  const auto aps = payload.find("aps");
  if (aps == payload.end() || !aps->is_object()) return "the payload has no aps dictionary";
  const auto event = aps->find("event");
  if (event == aps->end() || !event->is_string()) return "aps.event is missing";
  const std::string& name = event->get_ref<const std::string&>();
  if (name != "start" && name != "update" && name != "end") return "aps.event is not start, update or end";
  if (broadcast && name == "start") return "a broadcast cannot start a Live Activity";
  const auto timestamp = aps->find("timestamp");
  if (timestamp == aps->end() || !timestamp->is_number_integer()) return "aps.timestamp (unix seconds) is missing";
  const auto has = [&](const char* key) { return aps->contains(key); };
  if (name != "end" && !(has("content-state") && (*aps)["content-state"].is_object())) {
    return "aps.content-state (an object) is missing";
  }
  if (name == "start") {
    if (!has("attributes-type") || !(*aps)["attributes-type"].is_string()) return "aps.attributes-type is missing";
    if (!has("attributes") || !(*aps)["attributes"].is_object()) return "aps.attributes is missing";
    if (!has("alert")) return "a push-to-start needs an aps.alert";
  } else if (has("attributes") || has("attributes-type")) {
    return "aps.attributes are only for event start";
  }
  if (name != "end" && has("dismissal-date")) return "aps.dismissal-date is only for event end";
  for (const char* date : {"stale-date", "dismissal-date"}) {
    if (has(date) && !(*aps)[date].is_number_integer()) return "a date is not unix seconds";
  }
  if (has("relevance-score") && !(*aps)["relevance-score"].is_number()) return "aps.relevance-score is not a number";
  return "";
}

bool valid_uuid(std::string_view text) {
  if (text.size() != 36) return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? text[i] != '-' : !common::is_hex_digit(text[i])) return false;
  }
  return true;
}

std::string make_uuid() {
  std::uniform_int_distribution<std::uint64_t> bits;
  std::uint64_t high = bits(random_engine());
  std::uint64_t low = bits(random_engine());
  high = (high & ~0xf000ULL) | 0x4000ULL;                   // version 4
  low = (low & ~(0xc0ULL << 56)) | (0x80ULL << 56);         // RFC 4122 variant
  static constexpr char digits[] = "0123456789abcdef";
  std::string uuid;
  uuid.reserve(36);
  for (int i = 0; i < 32; ++i) {
    if (i == 8 || i == 12 || i == 16 || i == 20) uuid.push_back('-');
    const std::uint64_t word = i < 16 ? high : low;
    const int shift = 60 - 4 * (i % 16);
    uuid.push_back(digits[(word >> shift) & 0xf]);
  }
  return uuid;
}

namespace {

// The APNs request headers the checks look at, gathered in one pass over the headers.
struct ApnsHeaders {
  std::string_view topic, push_type, priority, expiration, collapse_id, apns_id, authorization;
  bool has_push_type = false, has_priority = false, has_expiration = false, has_apns_id = false;
  bool duplicate = false;

  explicit ApnsHeaders(const Request& request) {
    unsigned seen = 0;
    request.for_each_header([&](std::string_view name, std::string_view value) {
      if (name == "authorization") {
        authorization = value;
        return;
      }
      if (name.size() < 7 || name.substr(0, 5) != "apns-") return;
      const auto take = [&](unsigned bit, std::string_view& field, bool* present = nullptr) {
        if (seen & bit) duplicate = true;
        seen |= bit;
        field = value;
        if (present) *present = true;
      };
      if (name == "apns-topic") take(1, topic);
      else if (name == "apns-push-type") take(2, push_type, &has_push_type);
      else if (name == "apns-priority") take(4, priority, &has_priority);
      else if (name == "apns-expiration") take(8, expiration, &has_expiration);
      else if (name == "apns-collapse-id") take(16, collapse_id);
      else if (name == "apns-id") take(32, apns_id, &has_apns_id);
    });
  }
};

// SAX check that the payload is a JSON object with an "aps" object, without building a DOM
// (this runs for every request the simulator serves).
class PayloadShape final : public nlohmann::json_sax<nlohmann::json> {
 public:
  bool has_aps_object() const { return aps_object_; }

  bool null() override { return value(false); }
  bool boolean(bool) override { return value(false); }
  bool number_integer(number_integer_t) override { return value(false); }
  bool number_unsigned(number_unsigned_t) override { return value(false); }
  bool number_float(number_float_t, const string_t&) override { return value(false); }
  bool string(string_t&) override { return value(false); }
  bool binary(binary_t&) override { return value(false); }
  bool start_object(std::size_t) override {
    value(true);
    ++depth_;
    return true;
  }
  bool end_object() override {
    --depth_;
    return true;
  }
  bool start_array(std::size_t) override {
    if (depth_ == 0) return false;  // the payload must be an object
    value(false);
    ++depth_;
    return true;
  }
  bool end_array() override {
    --depth_;
    return true;
  }
  bool key(string_t& name) override {
    next_is_aps_ = depth_ == 1 && name == "aps";
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override {
    return false;
  }

 private:
  bool value(bool is_object) {
    if (depth_ == 0 && !is_object) return false;  // a top-level scalar
    if (next_is_aps_ && is_object) aps_object_ = true;
    next_is_aps_ = false;
    return true;
  }
  int depth_ = 0;
  bool next_is_aps_ = false;
  bool aps_object_ = false;
};

}  // namespace

Verdict check_request(const Request& request, const ProviderTokenVerifier* verifier,
                      bool skip_auth, std::int64_t now) {
  const std::string_view path = request.path();
  const std::string_view token = path.substr(std::min(path.size(), path_prefix.size()));
  if (token.empty()) return {400, "MissingDeviceToken"};

  const ApnsHeaders headers(request);
  Verdict verdict;
  if (verifier && !skip_auth) {
    const TokenVerdict auth = verifier->check(headers.authorization, now);
    if (auth != TokenVerdict::valid) return {403, reason_of(auth)};
  }
  verdict.authorized = true;

  const auto fail = [&verdict](int status, std::string_view reason) {
    verdict.status = status;
    verdict.reason = reason;
    return verdict;
  };
  if (!valid_device_token(token)) return fail(400, "BadDeviceToken");
  if (headers.duplicate) return fail(400, "DuplicateHeaders");
  if (headers.topic.empty()) return fail(400, "MissingTopic");
  if (headers.has_push_type && !valid_push_type(headers.push_type)) {
    return fail(400, "InvalidPushType");
  }
  if (headers.has_priority && headers.priority != "10" && headers.priority != "5" &&
      headers.priority != "1") {
    return fail(400, "BadPriority");
  }
  if (const auto reason = push_type_problem(headers.push_type, headers.topic, headers.priority); !reason.empty()) {
    return fail(400, reason);
  }
  if (headers.has_expiration &&
      (!all_digits(headers.expiration) || headers.expiration.size() > 19)) {
    return fail(400, "BadExpirationDate");
  }
  if (headers.collapse_id.size() > max_collapse_id) return fail(400, "BadCollapseId");
  if (headers.has_apns_id && !valid_uuid(headers.apns_id)) return fail(400, "BadMessageId");
  const std::size_t limit = headers.push_type == "voip" ? max_voip_payload : max_payload;
  if (request.body_size() > limit) return fail(413, "PayloadTooLarge");
  if (request.body_size() == 0) return fail(400, "PayloadEmpty");
  PayloadShape shape;
  const std::string_view body = request.body();
  if (!nlohmann::json::sax_parse(body.begin(), body.end(), &shape) || !shape.has_aps_object()) {
    return fail(400, "BadPayload");
  }
  // ActivityKit's and WidgetKit's payload rules, which a device enforces by dropping the push:
  // checked here so that a test sees the shape is right.
  if (headers.push_type == "liveactivity" && !live_activity_problem(nlohmann::json::parse(body), false).empty()) {
    return fail(400, "BadPayload");
  }
  if (headers.push_type == "widgets" && nlohmann::json::parse(body)["aps"].value("content-changed", false) != true) {
    return fail(400, "BadPayload");
  }
  return verdict;
}

void Service::handle(const Request& request, Response& response, ConnectionContext& context) const {
  const std::int64_t now = unix_millis() / 1000;
  const Verdict verdict = check_request(request, verifier_, behaviour_.no_auth(), now);
  if (verdict.authorized) context.authorized = true;

  const std::string_view apns_id = request.header("apns-id");
  response.headers.emplace_back("apns-id",
                                valid_uuid(apns_id) ? std::string(apns_id) : make_uuid());
  if (verdict.status != 200) {
    answer_error(response, verdict.status, verdict.reason);
    return;
  }

  if (const int forced = behaviour_.force_status(); forced != 0) {
    if (forced != 200) {
      const std::string reason = behaviour_.force_reason();
      answer_error(response, forced, reason.empty() ? default_reason(forced) : reason);
      return;
    }
  } else {
    if (const double rate = behaviour_.error_rate(); rate > 0.0) {
      if (std::uniform_real_distribution<double>(0.0, 1.0)(random_engine()) < rate) {
        answer_error(response, 503, "ServiceUnavailable");
        return;
      }
    }
    const std::string_view path = request.path();
    if (const TokenOutcome* outcome = outcome_for_token(path.substr(path_prefix.size()))) {
      if (outcome->no_answer) {
        response.no_answer = true;
        return;
      }
      answer_error(response, outcome->status, outcome->reason);
      if (outcome->retry_after) response.headers.emplace_back("retry-after", "1");
      return;
    }
  }

  const std::string_view path = request.path();
  response.status = 200;
  response.delivered = true;
  response.delivery_key = delivery_key(path.substr(path_prefix.size()), request.body());
  response.enqueued_ms = bench_enqueued_ms(request.body());
}

void Service::add_routes(Router& router) const {
  router.add(Route{
      .method = "POST",
      .path = std::string(path_prefix),
      .prefix = true,
      .counted = true,
      .http1 = false,
      .handler = [this](const Request& request, Response& response, ConnectionContext& context) {
        handle(request, response, context);
      },
  });
}

}  // namespace pushgw::sim::apns
