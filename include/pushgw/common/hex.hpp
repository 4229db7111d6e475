#pragma once
// Hex digits, checked by table: every device token is checked on intake and again before its
// send, and the per-character comparisons this replaced (neither loop was vectorised) showed
// in profiles at a few percent of the daemon.

#include <array>
#include <cstddef>
#include <string_view>

namespace pushgw::common {

inline constexpr std::array<bool, 256> kHexDigit = [] {
  std::array<bool, 256> table{};
  for (char c = '0'; c <= '9'; ++c) table[static_cast<unsigned char>(c)] = true;
  for (char c = 'a'; c <= 'f'; ++c) table[static_cast<unsigned char>(c)] = true;
  for (char c = 'A'; c <= 'F'; ++c) table[static_cast<unsigned char>(c)] = true;
  return table;
}();

inline bool is_hex_digit(char c) { return kHexDigit[static_cast<unsigned char>(c)]; }

// Where the first character that is not a hex digit is, or text.size().
inline std::size_t first_non_hex(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size() && is_hex_digit(text[i])) ++i;
  return i;
}

}  // namespace pushgw::common
