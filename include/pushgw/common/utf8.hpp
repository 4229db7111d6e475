#pragma once
// UTF-8 sanitising shared by the text formats pushgw writes (log lines, Prometheus text):
// one invalid byte in a token or label must not make a whole log line or scrape unreadable.

#include <cstddef>
#include <string_view>

namespace pushgw::common {

inline constexpr std::string_view kUtf8Replacement = "\xEF\xBF\xBD";  // U+FFFD

// Length of the valid UTF-8 sequence starting at p[0] (a byte >= 0x80), or 0 if invalid
// (overlong forms, surrogates and code points above U+10FFFF are invalid).
inline std::size_t utf8_sequence_length(const unsigned char* p, std::size_t remaining) {
  const unsigned char c = p[0];
  std::size_t len = 0;
  unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    if (c == 0xE0) lo = 0xA0;  // overlong
    if (c == 0xED) hi = 0x9F;  // surrogates
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    if (c == 0xF0) lo = 0x90;  // overlong
    if (c == 0xF4) hi = 0x8F;  // above U+10FFFF
  }
  if (len == 0 || len > remaining || p[1] < lo || p[1] > hi) return 0;
  for (std::size_t k = 2; k < len; ++k) {
    if (p[k] < 0x80 || p[k] > 0xBF) return 0;
  }
  return len;
}

// Appends s to out: each ASCII byte through escape_ascii(out, c), each valid multi-byte
// sequence verbatim, and U+FFFD for each byte that does not start a valid sequence.
// Out needs append(const char* first, const char* last).
template <class Out, class EscapeAscii>
void append_utf8_sanitized(Out& out, std::string_view s, EscapeAscii escape_ascii) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  std::size_t i = 0;
  while (i < s.size()) {
    if (p[i] < 0x80) {
      escape_ascii(out, static_cast<char>(p[i]));
      ++i;
    } else if (const std::size_t len = utf8_sequence_length(p + i, s.size() - i)) {
      out.append(s.data() + i, s.data() + i + len);
      i += len;
    } else {
      out.append(kUtf8Replacement.data(), kUtf8Replacement.data() + kUtf8Replacement.size());
      ++i;
    }
  }
}

}  // namespace pushgw::common
