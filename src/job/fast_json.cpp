#include "pushgw/job/fast_json.hpp"

#include <array>
#include <cstdint>
#include <string>

#include "pushgw/common/utf8.hpp"

namespace pushgw::job {

using nlohmann::json;

namespace {

// Bytes that may stand for themselves in a JSON string: printable ASCII but '"' and '\'.
constexpr std::array<bool, 256> kPlainStringByte = [] {
  std::array<bool, 256> table{};
  for (int c = 0x20; c < 0x80; ++c) table[c] = true;
  table['"'] = false;
  table['\\'] = false;
  return table;
}();

// Recursive descent over RFC 8259, building values as nlohmann's DOM parser does (a repeated
// key keeps its last value; integers: negative as number_integer, the others as
// number_unsigned). Every member returns false for anything it does not take.
class Reader {
 public:
  Reader(std::string_view text, std::size_t max_depth)
      : p_(text.data()), end_(text.data() + text.size()), max_depth_(max_depth) {}

  bool document(json& out) {
    skip_space();
    if (!value(out, 0)) return false;
    skip_space();
    return p_ == end_;
  }

 private:
  void skip_space() {
    while (p_ < end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) ++p_;
  }

  bool value(json& out, std::size_t depth) {
    if (p_ == end_) return false;
    switch (*p_) {
      case '{':
        return object(out, depth + 1);
      case '[':
        return array(out, depth + 1);
      case '"': {
        std::string text;
        if (!string(text)) return false;
        out = std::move(text);
        return true;
      }
      case 't':
        return literal("true", out, json(true));
      case 'f':
        return literal("false", out, json(false));
      case 'n':
        return literal("null", out, json(nullptr));
      default:
        return number(out);
    }
  }

  bool object(json& out, std::size_t depth) {
    if (depth > max_depth_) return false;
    out = json::object();
    if (opens_empty('}')) return true;
    for (bool done = false; !done;) {
      if (p_ == end_ || *p_ != '"') return false;
      std::string key;
      if (!string(key)) return false;
      skip_space();
      if (p_ == end_ || *p_ != ':') return false;
      ++p_;
      skip_space();
      json& member = out[std::move(key)];
      if (!value(member, depth) || !next_item('}', done)) return false;
    }
    return true;
  }

  bool array(json& out, std::size_t depth) {
    if (depth > max_depth_) return false;
    out = json::array();
    if (opens_empty(']')) return true;
    auto& items = out.get_ref<json::array_t&>();
    for (bool done = false; !done;) {
      items.emplace_back();
      if (!value(items.back(), depth) || !next_item(']', done)) return false;
    }
    return true;
  }

  // At '{' or '[': steps past it and the space after; true if `close` follows (stepped past).
  bool opens_empty(char close) {
    ++p_;
    skip_space();
    if (p_ == end_ || *p_ != close) return false;
    ++p_;
    return true;
  }

  // After a member or an element: `close` ends the container (done), ',' announces another.
  bool next_item(char close, bool& done) {
    skip_space();
    if (p_ == end_) return false;
    done = *p_ == close;
    if (!done && *p_ != ',') return false;
    ++p_;
    if (!done) skip_space();
    return true;
  }

  // At the opening quote; appends the string's text to `out`.
  bool string(std::string& out) {
    ++p_;
    while (true) {
      const char* run = p_;
      while (p_ < end_ && kPlainStringByte[static_cast<unsigned char>(*p_)]) ++p_;
      out.append(run, p_);
      if (p_ == end_) return false;
      const auto c = static_cast<unsigned char>(*p_);
      if (c == '"') {
        ++p_;
        return true;
      }
      if (c == '\\') {
        if (!escape(out)) return false;
      } else if (c >= 0x80) {
        const std::size_t n = common::utf8_sequence_length(reinterpret_cast<const unsigned char*>(p_),
                                                           static_cast<std::size_t>(end_ - p_));
        if (n == 0) return false;
        out.append(p_, n);
        p_ += n;
      } else {
        return false;  // a control character
      }
    }
  }

  bool escape(std::string& out) {
    ++p_;
    if (p_ == end_) return false;
    switch (*p_++) {
      case '"': out += '"'; return true;
      case '\\': out += '\\'; return true;
      case '/': out += '/'; return true;
      case 'b': out += '\b'; return true;
      case 'f': out += '\f'; return true;
      case 'n': out += '\n'; return true;
      case 'r': out += '\r'; return true;
      case 't': out += '\t'; return true;
      case 'u': break;
      default: return false;
    }
    long code = hex4();
    if (code < 0) return false;
    if (code >= 0xD800 && code <= 0xDBFF) {  // a high surrogate: its low one must follow
      if (end_ - p_ < 2 || p_[0] != '\\' || p_[1] != 'u') return false;
      p_ += 2;
      const long low = hex4();
      if (low < 0xDC00 || low > 0xDFFF) return false;
      code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
    } else if (code >= 0xDC00 && code <= 0xDFFF) {
      return false;
    }
    append_utf8(out, static_cast<std::uint32_t>(code));
    return true;
  }

  // Four hex digits as a number, or -1.
  long hex4() {
    if (end_ - p_ < 4) return -1;
    long code = 0;
    for (int i = 0; i < 4; ++i) {
      const char c = *p_++;
      int digit = 0;
      if (c >= '0' && c <= '9') {
        digit = c - '0';
      } else if (c >= 'a' && c <= 'f') {
        digit = c - 'a' + 10;
      } else if (c >= 'A' && c <= 'F') {
        digit = c - 'A' + 10;
      } else {
        return -1;
      }
      code = code * 16 + digit;
    }
    return code;
  }

  static void append_utf8(std::string& out, std::uint32_t code) {
    if (code < 0x80) {
      out += static_cast<char>(code);
    } else if (code < 0x800) {
      out += static_cast<char>(0xC0 | (code >> 6));
      out += static_cast<char>(0x80 | (code & 0x3F));
    } else if (code < 0x10000) {
      out += static_cast<char>(0xE0 | (code >> 12));
      out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (code & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (code >> 18));
      out += static_cast<char>(0x80 | ((code >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (code & 0x3F));
    }
  }

  bool literal(std::string_view word, json& out, json value) {
    if (static_cast<std::size_t>(end_ - p_) < word.size() || std::string_view(p_, word.size()) != word) {
      return false;
    }
    p_ += word.size();
    out = std::move(value);
    return true;
  }

  // Integers of up to 18 digits (they fit either type); the others are nlohmann's to read.
  bool number(json& out) {
    const char* q = p_;
    const bool negative = *q == '-';
    if (negative) ++q;
    if (q == end_ || *q < '0' || *q > '9') return false;
    const char* digits = q;
    if (*q == '0') {
      ++q;  // no leading zeros: a digit after it ends the number, and the caller refuses it
    } else {
      while (q < end_ && *q >= '0' && *q <= '9') ++q;
    }
    if (q < end_ && (*q == '.' || *q == 'e' || *q == 'E')) return false;
    if (q - digits > 18) return false;
    std::uint64_t magnitude = 0;
    for (const char* d = digits; d < q; ++d) magnitude = magnitude * 10 + static_cast<std::uint64_t>(*d - '0');
    if (negative) {
      out = -static_cast<std::int64_t>(magnitude);
    } else {
      out = magnitude;
    }
    p_ = q;
    return true;
  }

  const char* p_;
  const char* const end_;
  const std::size_t max_depth_;
};

}  // namespace

std::optional<json> read_json_fast(std::string_view text, std::size_t max_depth) {
  json out;
  Reader reader(text, max_depth);
  if (!reader.document(out)) return std::nullopt;
  return out;
}

}  // namespace pushgw::job
