#include "text.hpp"

#include <cstdio>

namespace pushgw::config::detail {

std::string in_quotes(std::string_view text, std::size_t max_shown) {
  std::string out = "\"";
  std::size_t shown = 0;
  for (char c : text) {
    if (shown == max_shown) {
      out += "...";
      break;
    }
    ++shown;
    const auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (byte < 0x20 || byte == 0x7f) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\x%02x", byte);
      out += escaped;
    } else {
      out += c;
    }
  }
  out += '"';
  return out;
}

bool is_ascii_digit(char c) { return c >= '0' && c <= '9'; }

bool is_ascii_alnum(char c) {
  return is_ascii_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

bool all_digits(std::string_view text) {
  if (text.empty()) return false;
  for (char c : text) {
    if (!is_ascii_digit(c)) return false;
  }
  return true;
}

std::optional<std::uint16_t> parse_port(std::string_view text, std::string* error) {
  // Five digits at most keeps the arithmetic far from overflow; leading zeros are tolerated.
  std::string_view digits = text;
  while (digits.size() > 1 && digits.front() == '0') digits.remove_prefix(1);
  if (all_digits(digits) && digits.size() <= 5) {
    unsigned value = 0;
    for (char c : digits) value = value * 10 + static_cast<unsigned>(c - '0');
    if (value >= 1 && value <= 65535) return static_cast<std::uint16_t>(value);
  }
  if (error) *error = "port must be 1-65535, got " + in_quotes(text);
  return std::nullopt;
}

bool is_valid_host_name(std::string_view host) {
  if (host.empty() || host.size() > 253) return false;
  for (char c : host) {
    if (!is_ascii_alnum(c) && c != '.' && c != '-' && c != '_') return false;
  }
  return true;
}

bool is_valid_ipv6_literal(std::string_view host) {
  const auto percent = host.find('%');
  const std::string_view address = host.substr(0, percent);
  if (address.find(':') == std::string_view::npos) return false;
  for (char c : address) {
    const bool hex = is_ascii_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    if (!hex && c != ':' && c != '.') return false;
  }
  if (percent != std::string_view::npos) {
    const std::string_view zone = host.substr(percent + 1);
    if (zone.empty()) return false;
    for (char c : zone) {
      if (!is_ascii_alnum(c) && c != '-' && c != '_' && c != '.') return false;
    }
  }
  return true;
}

}  // namespace pushgw::config::detail
