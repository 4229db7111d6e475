#include "pushgw/web/request.hpp"

#include <algorithm>
#include <charconv>

#include <nlohmann/json.hpp>

#include "pushgw/api/token_request.hpp"
#include "pushgw/common/quote.hpp"
#include "pushgw/common/url.hpp"

namespace pushgw::web {

namespace {

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return lower(x) == lower(y); });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// The credentials of "Bearer <token>" (scheme in any case, RFC 7235); nullopt for another scheme.
std::optional<std::string_view> bearer(std::string_view authorization) {
  authorization = trim(authorization);
  constexpr std::string_view kScheme = "bearer";
  if (authorization.size() < kScheme.size() || !iequals(authorization.substr(0, kScheme.size()), kScheme)) {
    return std::nullopt;
  }
  const std::string_view rest = authorization.substr(kScheme.size());
  if (!rest.empty() && rest.front() != ' ' && rest.front() != '\t') return std::nullopt;  // "Bearerx"
  return trim(rest);
}

std::optional<std::uint64_t> parse_u64(std::string_view text) {
  std::uint64_t value = 0;  // from_chars takes digits only: no sign, no space
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

Opening refuse(int status, std::string message) {
  Opening out;
  out.status = status;
  out.message = std::move(message);
  return out;
}

// Appends `text` as one field per line: "<name>: <line>\n" (CR, LF and CRLF end lines).
void append_lines(std::string& out, std::string_view name, std::string_view text) {
  while (true) {
    const auto end = text.find_first_of("\r\n");
    out += name;
    out += ": ";
    out += text.substr(0, end);
    out += '\n';
    if (end == std::string_view::npos) return;
    const std::size_t skip = text.substr(end, 2) == "\r\n" ? 2 : 1;
    text.remove_prefix(end + skip);
  }
}

// A single-line field, without the line breaks that would start another field.
void append_field(std::string& out, std::string_view name, std::string_view value) {
  if (value.empty()) return;
  out += name;
  out += ": ";
  for (const char c : value) {
    if (c != '\r' && c != '\n') out += c;
  }
  out += '\n';
}

}  // namespace

std::string StreamId::to_string() const { return std::to_string(ms) + "-" + std::to_string(seq); }

std::optional<StreamId> parse_stream_id(std::string_view text) {
  const auto dash = text.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  const auto ms = parse_u64(text.substr(0, dash));
  const auto seq = parse_u64(text.substr(dash + 1));
  if (!ms || !seq) return std::nullopt;
  return StreamId{*ms, *seq};
}

Opening parse_opening(std::string_view target, const OpeningHeaders& headers, Resume resume) {
  // A parameter that does not decode must not pass for an absent one (all channels, no resume).
  const auto question = target.find('?');
  if (question != std::string_view::npos && !common::percent_decode(target.substr(question + 1))) {
    return refuse(400, "the query is not valid percent-encoding");
  }

  Opening out;
  std::optional<std::string_view> from_header;
  if (headers.authorization) from_header = bearer(*headers.authorization);
  if (from_header) {
    if (from_header->empty()) return refuse(401, "Authorization: Bearer carries no client token");
    out.token = std::string(*from_header);
  } else if (auto param = api::query_parameter(target, "token"); param && !param->empty()) {
    out.token = std::move(*param);
  } else {
    return refuse(401, "no client token: send Authorization: Bearer <token> or the token parameter");
  }

  out.channels = api::query_parameter(target, "channels");

  // An empty id is no id: EventSource sends none until it has seen one.
  std::optional<std::string> id;
  const char* source = "last_id";
  if (resume == Resume::sse) {
    if (headers.last_event_id && !headers.last_event_id->empty()) {
      id = std::string(*headers.last_event_id);
      source = "Last-Event-ID";
    } else {
      id = api::query_parameter(target, "last_event_id");
      source = "last_event_id";
    }
  } else {
    id = api::query_parameter(target, "last_id");
  }
  if (id && !id->empty()) {
    out.resume = parse_stream_id(*id);
    if (!out.resume) {
      return refuse(400, std::string(source) + " " + common::quote(*id) + " is not a message id (<ms>-<seq>)");
    }
  }
  return out;
}

bool origin_allowed(std::string_view origin, const std::vector<std::string>& allowed) {
  if (allowed.empty()) return true;
  return std::any_of(allowed.begin(), allowed.end(), [&](const std::string& a) { return iequals(a, origin); });
}

std::string sse_message(std::string_view id, std::string_view event, std::string_view data) {
  std::string out;
  out.reserve(data.size() + id.size() + event.size() + 32);
  append_field(out, "id", id);
  append_field(out, "event", event);
  append_lines(out, "data", data);
  out += '\n';
  return out;
}

std::string sse_comment(std::string_view text) {
  std::string out;
  append_lines(out, "", text);
  out += '\n';
  return out;
}

std::string sse_retry(std::uint64_t ms) { return "retry: " + std::to_string(ms) + "\n\n"; }

std::string message_json(std::string_view id, std::string_view channel, std::string_view notification_json) {
  const auto quoted = [](std::string_view s) {
    return nlohmann::json(std::string(s)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  };
  std::string out = "{\"id\":" + quoted(id) + ",\"channel\":" + quoted(channel) + ",\"notification\":";
  out += notification_json.empty() ? std::string_view("null") : notification_json;
  out += '}';
  return out;
}

}  // namespace pushgw::web
