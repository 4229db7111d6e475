#pragma once
// The Notification JSON codec: strict decoding that names the first bad field by its JSON path,
// and encoding that writes only the fields that are set, so decode(encode(n)) == n.
//
// Decoding rules (DESIGN §4 "Notification"):
// - unknown fields are errors ("unknown field \"titel\"", with a did-you-mean hint);
// - `null` is taken as "absent" for optional fields (many producers serialise unset options as
//   null); the required `platform` and `tokens` must be present and non-null;
// - shapes are checked here (types, enums, object-ness); limits and token formats are checked by
//   validate_notification (validate.hpp), which needs the configuration.

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "pushgw/job/notification.hpp"

namespace pushgw::job {

// Deeper JSON is rejected before parsing: encoding and comparing JSON recurse per level, and
// legitimate push payloads are a few levels deep.
inline constexpr std::size_t kMaxJsonDepth = 64;

// A key quoted in a path or message is cut to this many bytes (with its length said): error
// bodies and log lines never grow with the input they complain about.
inline constexpr std::size_t kMaxQuotedKeyBytes = 64;

// Parses JSON text; never throws for bad input (invalid UTF-8, numbers beyond double such as
// 1e400, syntax). Errors have path "" and the parser's message with the byte offset, e.g.
// "invalid JSON at byte 12: syntax error while parsing object key - ...".
std::variant<nlohmann::json, FieldError> parse_json(std::string_view text);

// Decodes one Notification found at `path` ("" for a document root, "notifications[3]" inside a
// request). Field errors carry the full path, e.g. "notifications[3].tokens[0]". The rvalue
// form moves the values out of `j` (no copies); the const form decodes a copy.
std::variant<Notification, FieldError> decode_notification(nlohmann::json&& j, const std::string& path);
std::variant<Notification, FieldError> decode_notification(const nlohmann::json& j,
                                                           const std::string& path);

// Writes only the fields that are set (`app` only when non-empty).
nlohmann::json encode_notification(const Notification& n);

// The Redis element text of one job: compact JSON of one Notification.
std::string encode_job_string(const Notification& n);

// Decodes a Redis element: one Notification object, or a whole {"notifications": [...]} body
// (then paths are "notifications[i]..."). JSON syntax errors have path "".
std::variant<std::vector<Notification>, FieldError> decode_job_string(std::string_view text);

// Parses "ios" | "android" | 1 | 2 (gorush's numbering).
std::optional<Platform> parse_platform(const nlohmann::json& j);

// JSON path helpers: child_path("notifications[3]", "tokens") == "notifications[3].tokens",
// child_path("", "tokens") == "tokens"; keys that are not plain words are quoted:
// child_path("data", "a.b") == "data[\"a.b\"]". index_path("tokens", 0) == "tokens[0]".
std::string child_path(std::string_view parent, std::string_view key);
std::string index_path(std::string_view parent, std::size_t index);

// `unknown field "titel" (did you mean "title"?)`; the hint only when a known name is close.
std::string unknown_field_message(std::string_view key, std::span<const std::string_view> known);

// Compact JSON that never throws: invalid UTF-8 (only possible in values built in code, the
// parser rejects it) is replaced by U+FFFD.
std::string dump_compact(const nlohmann::json& j);

// The notification as live web clients receive it (the "notification" of each message of
// platform web): id, title, message, image, sound, badge, category and data when set; no
// tokens, app or delivery options. At most kWebPayloadLimit bytes (checked with the request).
std::string web_notification_json(const Notification& n);
inline constexpr std::size_t kWebPayloadLimit = 16 * 1024;

}  // namespace pushgw::job
