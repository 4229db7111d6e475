#pragma once
// Small text helpers shared by the config parsers (private to src/config).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace pushgw::config::detail {

// `text` in double quotes for an error message: control characters escaped, long values cut
// short so one bad value cannot flood the terminal (file paths pass a larger limit).
std::string in_quotes(std::string_view text, std::size_t max_shown = 80);

bool is_ascii_digit(char c);
bool is_ascii_alnum(char c);
bool all_digits(std::string_view text);  // false for ""

// "1".."65535"; on failure sets *error to `port must be 1-65535, got "..."`.
std::optional<std::uint16_t> parse_port(std::string_view text, std::string* error);

// A DNS name or IPv4 address (letters, digits, '.', '-', '_').
bool is_valid_host_name(std::string_view host);
// The inside of "[...]": hex digits, ':', '.', and a "%zone" suffix.
bool is_valid_ipv6_literal(std::string_view host);

}  // namespace pushgw::config::detail
