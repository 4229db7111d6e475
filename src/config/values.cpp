// Parsers for the value types a config file uses: durations, sizes, listen addresses, https
// endpoints, and ${VAR} substitution. They report failures as a message without key path or
// line; parse_config adds those.

#include <cstdint>
#include <string_view>

#include "pushgw/config/config.hpp"
#include "text.hpp"

namespace pushgw::config {

using detail::all_digits;
using detail::is_ascii_digit;
using detail::in_quotes;

namespace {

std::nullopt_t fail(std::string* error, std::string message) {
  if (error) *error = std::move(message);
  return std::nullopt;
}

bool is_ascii_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string ascii_lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = ascii_lower(c);
  return out;
}

bool starts_with_ignoring_case(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() && ascii_lower(text.substr(0, prefix.size())) == prefix;
}

bool has_space(std::string_view text) {
  return text.find_first_of(" \t\r\n") != std::string_view::npos;
}

// The host and port of "host:port" or "[v6]:port" (port optional when `default_port` is set).
std::optional<HostPort> split_host_port(std::string_view authority,
                                        std::optional<std::uint16_t> default_port,
                                        std::string* error) {
  HostPort out;
  std::string_view port_text;
  bool has_port = false;
  if (!authority.empty() && authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return fail(error, "has an unclosed \"[\" around the host");
    out.host = authority.substr(1, close - 1);
    if (!detail::is_valid_ipv6_literal(out.host)) {
      return fail(error, "has an invalid IPv6 address " + in_quotes(out.host));
    }
    const std::string_view rest = authority.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return fail(error, "expected \":port\" after \"]\", got " + in_quotes(rest));
      port_text = rest.substr(1);
      has_port = true;
    }
  } else {
    const auto colon = authority.find(':');
    if (colon != std::string_view::npos && authority.find(':', colon + 1) != std::string_view::npos) {
      return fail(error, "an IPv6 address needs brackets, e.g. \"[::1]:8088\"");
    }
    out.host = authority.substr(0, colon);
    if (colon != std::string_view::npos) {
      port_text = authority.substr(colon + 1);
      has_port = true;
    }
    if (!out.host.empty() && !detail::is_valid_host_name(out.host)) {
      return fail(error, "has an invalid host " + in_quotes(out.host));
    }
  }
  if (has_port) {
    const auto port = detail::parse_port(port_text, error);
    if (!port) return std::nullopt;
    out.port = *port;
  } else if (default_port) {
    out.port = *default_port;
  } else {
    return fail(error, "has no port");
  }
  return out;
}

}  // namespace

std::optional<milliseconds> parse_duration(const std::string& text, std::string* error) {
  const std::string expected = "expected a duration like \"250ms\", \"10s\", \"2m\" or \"1h\"";
  constexpr std::int64_t max_ms = 365LL * 24 * 3600 * 1000;
  if (text.empty()) return fail(error, "is empty; " + expected);
  if (text.front() == '-') return fail(error, "must not be negative, got " + in_quotes(text));
  if (has_space(text)) return fail(error, expected + " (no spaces), got " + in_quotes(text));

  std::int64_t total = 0;
  std::size_t i = 0;
  while (i < text.size()) {
    // One "<number><unit>" term; "1m30s" has two.
    const std::size_t number_start = i;
    while (i < text.size() && is_ascii_digit(text[i])) ++i;
    const std::string_view whole = std::string_view(text).substr(number_start, i - number_start);
    std::string_view fraction;
    if (i < text.size() && text[i] == '.') {
      const std::size_t fraction_start = ++i;
      while (i < text.size() && is_ascii_digit(text[i])) ++i;
      fraction = std::string_view(text).substr(fraction_start, i - fraction_start);
      if (fraction.empty()) return fail(error, expected + ", got " + in_quotes(text));
    }
    if (whole.empty() && fraction.empty()) return fail(error, expected + ", got " + in_quotes(text));
    const std::string_view number = std::string_view(text).substr(number_start, i - number_start);

    const std::size_t unit_start = i;
    while (i < text.size() && is_ascii_alpha(text[i])) ++i;
    const std::string_view unit = std::string_view(text).substr(unit_start, i - unit_start);
    if (unit.empty()) {
      if (i == text.size() && number_start == 0) {
        return fail(error, "needs a unit: write " + in_quotes(text + "s") + " for seconds or " +
                               in_quotes(text + "ms") + " for milliseconds (units: ms, s, m, h, d)");
      }
      return fail(error, "needs a unit after " + in_quotes(number) + " in " + in_quotes(text) +
                             " (units: ms, s, m, h, d)");
    }
    std::int64_t unit_ms = 0;
    if (unit == "ms") unit_ms = 1;
    else if (unit == "s") unit_ms = 1000;
    else if (unit == "m") unit_ms = 60 * 1000;
    else if (unit == "h") unit_ms = 3600 * 1000;
    else if (unit == "d") unit_ms = 86400 * 1000;
    else {
      return fail(error, "has unknown unit " + in_quotes(unit) + " in " + in_quotes(text) +
                             "; use ms, s, m, h or d");
    }

    // Digit limits keep every product below 2^63; the sum is capped at max_ms below.
    if (whole.size() > 12) return fail(error, "is too long; the maximum is 8760h (365 days)");
    if (fraction.size() > 6) return fail(error, "has more than 6 decimals: " + in_quotes(text));
    std::int64_t whole_value = 0;
    for (char c : whole) whole_value = whole_value * 10 + (c - '0');
    std::int64_t fraction_value = 0;
    std::int64_t fraction_scale = 1;
    for (char c : fraction) {
      fraction_value = fraction_value * 10 + (c - '0');
      fraction_scale *= 10;
    }
    if ((fraction_value * unit_ms) % fraction_scale != 0) {
      return fail(error, "is finer than a millisecond: " + in_quotes(text));
    }
    total += whole_value * unit_ms + fraction_value * unit_ms / fraction_scale;
    if (total > max_ms) return fail(error, "is too long; the maximum is 8760h (365 days)");
  }
  return milliseconds{total};
}

std::optional<std::size_t> parse_size(const std::string& text, std::string* error) {
  const std::string expected =
      "expected a size like 65536, \"64KiB\" or \"1MiB\" (units: B, KB, KiB, MB, MiB, GB, GiB)";
  if (text.empty()) return fail(error, "is empty; " + expected);
  if (text.front() == '-') return fail(error, "must not be negative, got " + in_quotes(text));

  std::size_t i = 0;
  while (i < text.size() && is_ascii_digit(text[i])) ++i;
  const std::string_view number = std::string_view(text).substr(0, i);
  if (number.empty()) return fail(error, expected + ", got " + in_quotes(text));
  if (i < text.size() && text[i] == '.') {
    return fail(error, "must be a whole number of bytes or units, got " + in_quotes(text));
  }
  std::size_t unit_start = i;
  if (unit_start < text.size() && text[unit_start] == ' ') ++unit_start;  // "64 KiB" reads well
  const std::string unit = ascii_lower(std::string_view(text).substr(unit_start));

  std::uint64_t multiplier = 0;
  if (unit.empty() || unit == "b") multiplier = 1;
  else if (unit == "kb") multiplier = 1000;
  else if (unit == "kib") multiplier = 1024;
  else if (unit == "mb") multiplier = 1000 * 1000;
  else if (unit == "mib") multiplier = 1024 * 1024;
  else if (unit == "gb") multiplier = 1000 * 1000 * 1000;
  else if (unit == "gib") multiplier = 1024ULL * 1024 * 1024;
  else {
    return fail(error, "has unknown unit " + in_quotes(std::string_view(text).substr(unit_start)) +
                           "; " + expected);
  }

  if (number.size() > 15) return fail(error, "is too large: " + in_quotes(text));
  std::uint64_t value = 0;
  for (char c : number) value = value * 10 + static_cast<std::uint64_t>(c - '0');
  std::uint64_t bytes = 0;
  if (__builtin_mul_overflow(value, multiplier, &bytes) || bytes > SIZE_MAX) {
    return fail(error, "is too large: " + in_quotes(text));
  }
  return static_cast<std::size_t>(bytes);
}

std::optional<ListenAddress> parse_listen_address(const std::string& text, std::string* error) {
  const std::string expected =
      "expected host:port, e.g. \"0.0.0.0:8088\", \"[::1]:8088\" or \":8088\"";
  if (text.empty()) return fail(error, "is empty; " + expected);
  if (has_space(text)) return fail(error, expected + ", got " + in_quotes(text));
  const bool bracketed = text.front() == '[';
  if (!bracketed && text.find(':') == std::string::npos) {
    return fail(error, expected + ", got " + in_quotes(text));
  }
  std::string why;
  const auto parts = split_host_port(text, std::nullopt, &why);
  if (!parts) return fail(error, why + "; " + expected);
  ListenAddress out;
  out.host = parts->host.empty() ? "0.0.0.0" : parts->host;
  out.port = parts->port;
  return out;
}

std::optional<HostPort> parse_host_port(const std::string& text, std::uint16_t default_port, std::string* error) {
  const std::string expected = "expected host:port, e.g. \"10.0.0.7:26379\", \"sentinel-0.redis:26379\" or \"[::1]:26379\"";
  if (text.empty() || has_space(text)) return fail(error, expected + ", got " + in_quotes(text));
  std::string why;
  auto parts = split_host_port(text, default_port, &why);
  if (!parts) return fail(error, why + "; " + expected);
  if (parts->host.empty()) return fail(error, "has no host; " + expected);
  return parts;
}

std::optional<HttpsEndpoint> parse_https_endpoint(const std::string& url, std::string* error) {
  const std::string expected =
      "expected an https:// URL like \"https://api.push.apple.com\" or \"https://127.0.0.1:8443\"";
  std::string_view rest = url;
  if (starts_with_ignoring_case(url, "https://")) {
    rest.remove_prefix(8);
  } else if (starts_with_ignoring_case(url, "http://")) {
    return fail(error, "must use https:// (APNs, FCM and the simulator only speak HTTP/2 over "
                       "TLS), got " + in_quotes(url));
  } else {
    return fail(error, expected + ", got " + in_quotes(url));
  }
  const auto authority_end = rest.find_first_of("/?#");
  const std::string_view authority = rest.substr(0, authority_end);
  const std::string_view tail =
      authority_end == std::string_view::npos ? std::string_view{} : rest.substr(authority_end);
  if (!tail.empty() && tail != "/") {
    return fail(error, "must not have a path, query or fragment (got " + in_quotes(tail) +
                           "); give only https://host[:port]");
  }
  if (authority.find('@') != std::string_view::npos) {
    return fail(error, "must not contain user info (\"user@\"); give only https://host[:port]");
  }
  std::string why;
  const auto parts = split_host_port(authority, std::uint16_t{443}, &why);
  if (!parts) return fail(error, why + "; " + expected);
  if (parts->host.empty()) return fail(error, "has no host; " + expected);
  return HttpsEndpoint{parts->host, parts->port};
}

std::optional<std::string> substitute_env(const std::string& text, EnvLookup env,
                                          std::string* error) {
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    if (text.compare(i, 3, "$${") == 0) {
      out += "${";
      i += 3;
      continue;
    }
    if (text.compare(i, 2, "${") != 0) {
      out += text[i++];
      continue;
    }
    const auto close = text.find('}', i + 2);
    if (close == std::string::npos) {
      return fail(error, "has \"${\" without a closing \"}\" (write \"$${\" for a literal \"${\")");
    }
    const std::string_view inner = std::string_view(text).substr(i + 2, close - i - 2);
    const auto default_marker = inner.find(":-");
    const std::string name(inner.substr(0, default_marker));
    const bool has_default = default_marker != std::string_view::npos;
    const std::string_view fallback =
        has_default ? inner.substr(default_marker + 2) : std::string_view{};

    bool valid_name = !name.empty() && !is_ascii_digit(name.front());
    for (char c : name) valid_name = valid_name && (detail::is_ascii_alnum(c) || c == '_');
    if (!valid_name) {
      return fail(error, "has an invalid variable name " + in_quotes(name) + " in " +
                             in_quotes(text.substr(i, close - i + 1)) +
                             " (letters, digits and \"_\", not starting with a digit)");
    }
    if (fallback.find("${") != std::string_view::npos) {
      return fail(error, "nests \"${\" inside the default of ${" + name +
                             ":-...}; nesting is not supported");
    }

    const std::optional<std::string> value = env ? env(name) : std::nullopt;
    if (value && !value->empty()) {
      out += *value;
    } else if (has_default) {
      out += fallback;
    } else if (!value) {
      return fail(error, "uses environment variable " + name + ", which is not set (set it, or "
                         "write ${" + name + ":-default} to give a default)");
    }
    i = close + 1;
  }
  return out;
}

}  // namespace pushgw::config
