#pragma once
// Quoting untrusted input inside messages (error bodies, log lines): at most a few dozen bytes
// of it, valid UTF-8, control characters escaped, and the length said when it was cut. An error
// message must never grow with the input it complains about.

#include <cstddef>
#include <cstdio>
#include <string>
#include <string_view>

#include "pushgw/common/utf8.hpp"

namespace pushgw::common {

inline constexpr std::size_t kQuoteMaxBytes = 48;

// `"abc"`, or `"abcdef…" (123456 bytes)` when longer than max_bytes. Cuts on a UTF-8
// boundary; invalid bytes become U+FFFD; control characters become \uXXXX.
inline std::string quote(std::string_view input, std::size_t max_bytes = kQuoteMaxBytes) {
  std::string_view shown = input;
  const bool cut = input.size() > max_bytes;
  if (cut) {
    std::size_t end = max_bytes;
    // Do not split a multi-byte sequence: back up to the start of the one that crosses the cut.
    while (end > 0 && (static_cast<unsigned char>(input[end]) & 0xC0) == 0x80) --end;
    shown = input.substr(0, end);
  }
  std::string out = "\"";
  append_utf8_sanitized(out, shown, [](std::string& o, char c) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned char>(c));
      o += buf;
    } else if (c == '"' || c == '\\') {
      o += '\\';
      o += c;
    } else {
      o += c;
    }
  });
  out += '"';
  if (cut) {
    out.insert(out.size() - 1, "\xE2\x80\xA6");  // … inside the quotes
    out += " (" + std::to_string(input.size()) + " bytes)";
  }
  return out;
}

// A short excerpt of a provider's answer for error text and log lines: its first `max` bytes,
// printable ASCII kept and every other byte shown as '?', "..." when cut. (No quotes or
// escapes: provider bodies are JSON, which quote() would make hard to read.)
inline std::string printable(std::string_view text, std::size_t max = 200) {
  std::string out;
  for (const char c : text.substr(0, max)) {
    const auto u = static_cast<unsigned char>(c);
    out += (u >= 0x20 && u < 0x7F) ? c : '?';
  }
  if (text.size() > max) out += "...";
  return out;
}

}  // namespace pushgw::common
