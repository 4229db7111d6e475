#pragma once
// "scheme://host[:port][/path][?query]" → its parts, written once for every URL pushgw reads
// from its config or from credentials: the providers' endpoints (h2::parse_https_endpoint),
// the service account's token_uri (fcm::parse_https_url) and the feedback webhook; and
// percent-decoding (the Redis URL's password, the token API's path and query).

#include <charconv>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace pushgw::common {

// %XX escapes decoded; `plus_is_space` for a query string (a form's encoding), not for a path
// or user info. nullopt for a '%' not followed by two hex digits.
inline std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space = false) {
  const auto hex_value = [](char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '+' && plus_is_space) {
      out += ' ';
    } else if (text[i] != '%') {
      out += text[i];
    } else {
      if (i + 2 >= text.size()) return std::nullopt;  // needs two hex digits
      const int high = hex_value(text[i + 1]);
      const int low = hex_value(text[i + 2]);
      if (high < 0 || low < 0) return std::nullopt;
      out += static_cast<char>(high * 16 + low);
      i += 2;
    }
  }
  return out;
}

struct Url {
  std::string scheme;         // "http" or "https"
  std::string host;           // IPv6 literals without brackets
  std::uint16_t port = 0;     // the scheme's default when the URL names none
  std::string target = "/";   // path and query, as sent in a request line
  bool has_query = false;
  bool operator==(const Url&) const = default;
};

// Parses an http or https URL. User info and fragments are refused (a credential in a URL
// ends up in logs). On failure returns nullopt and sets *error (when non-null) to what is
// wrong, e.g. "scheme must be http or https".
inline std::optional<Url> parse_url(std::string_view text, std::string* error = nullptr) {
  auto fail = [&](std::string message) -> std::optional<Url> {
    if (error) *error = std::move(message);
    return std::nullopt;
  };
  const auto quoted = [&] { return "\"" + std::string(text) + "\""; };
  Url url;
  const auto scheme_end = text.find("://");
  url.scheme = std::string(text.substr(0, scheme_end));
  if (scheme_end == std::string_view::npos || (url.scheme != "http" && url.scheme != "https")) {
    return fail("scheme must be http or https (expected http[s]://host[:port][/path]), got " + quoted());
  }
  url.port = url.scheme == "https" ? 443 : 80;
  std::string_view rest = text.substr(scheme_end + 3);
  if (rest.find('#') != std::string_view::npos) return fail("must have no fragment (#...), got " + quoted());
  const auto authority_end = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, authority_end);
  if (authority_end != std::string_view::npos) {
    url.target = std::string(rest.substr(authority_end));
    if (url.target.front() == '?') url.target.insert(0, "/");
    url.has_query = url.target.find('?') != std::string::npos;
  }
  if (authority.find('@') != std::string_view::npos) {
    // The URL is not echoed: it holds a credential.
    return fail("must have no user info (user:password@): put credentials elsewhere");
  }

  std::string_view port_text;
  if (!authority.empty() && authority.front() == '[') {  // [IPv6]:port
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return fail("unterminated '[' in host");
    url.host = std::string(authority.substr(1, close - 1));
    authority.remove_prefix(close + 1);
    if (!authority.empty()) {
      if (authority.front() != ':') return fail("unexpected text after ']' in host");
      port_text = authority.substr(1);
      if (port_text.empty()) return fail("empty port after ':'");
    }
  } else {
    const auto colon = authority.find(':');
    url.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) {
      port_text = authority.substr(colon + 1);
      if (port_text.empty()) return fail("empty port after ':'");
    }
  }
  if (url.host.empty()) return fail("host is empty");
  if (!port_text.empty()) {
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), value);
    if (ec != std::errc() || end != port_text.data() + port_text.size() || value == 0 || value > 65535) {
      return fail("port must be 1-65535, got \"" + std::string(port_text) + "\"");
    }
    url.port = static_cast<std::uint16_t>(value);
  }
  return url;
}

}  // namespace pushgw::common
