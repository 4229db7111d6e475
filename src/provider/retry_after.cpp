#include "pushgw/provider/retry_after.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <string_view>
#include <vector>

namespace pushgw::provider {
namespace {

using std::chrono::seconds;

// ---- Retry-After HTTP-date ---------------------------------------------------------------

std::vector<std::string_view> split_on_spaces(std::string_view text) {
  std::vector<std::string_view> parts;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && text[i] == ' ') ++i;
    const std::size_t start = i;
    while (i < text.size() && text[i] != ' ') ++i;
    if (i > start) parts.push_back(text.substr(start, i - start));
  }
  return parts;
}

std::optional<int> parse_int(std::string_view text, std::size_t min_digits, std::size_t max_digits) {
  if (text.size() < min_digits || text.size() > max_digits) return std::nullopt;
  int value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::optional<unsigned> parse_month(std::string_view name) {
  constexpr std::array<std::string_view, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  for (std::size_t i = 0; i < kMonths.size(); ++i) {
    if (name == kMonths[i]) return static_cast<unsigned>(i + 1);
  }
  return std::nullopt;
}

// "08:49:37" → seconds since midnight.
std::optional<seconds> parse_time_of_day(std::string_view text) {
  if (text.size() != 8 || text[2] != ':' || text[5] != ':') return std::nullopt;
  const auto h = parse_int(text.substr(0, 2), 2, 2);
  const auto m = parse_int(text.substr(3, 2), 2, 2);
  const auto s = parse_int(text.substr(6, 2), 2, 2);
  if (!h || !m || !s || *h > 23 || *m > 59 || *s > 60) return std::nullopt;
  return std::chrono::hours(*h) + std::chrono::minutes(*m) + seconds(*s);
}

// In whole seconds: system_clock counts nanoseconds, which overflow after the year 2262, and a
// date may say any year up to 9999.
std::optional<std::chrono::sys_seconds> make_time(int year, std::optional<unsigned> month,
                                                  std::optional<int> day,
                                                  std::optional<seconds> time_of_day) {
  if (!month || !day || !time_of_day || *day < 1) return std::nullopt;
  const std::chrono::year_month_day date{std::chrono::year(year), std::chrono::month(*month),
                                         std::chrono::day(static_cast<unsigned>(*day))};
  if (!date.ok()) return std::nullopt;
  return std::chrono::sys_days(date) + *time_of_day;
}

// The three date forms RFC 9110 §5.6.7 says a recipient must accept.
std::optional<std::chrono::sys_seconds> parse_http_date(std::string_view text) {
  const auto parts = split_on_spaces(text);
  if (parts.size() == 6 && parts[0].ends_with(',') && parts[5] == "GMT") {
    // IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT
    const auto year = parse_int(parts[3], 4, 4);
    if (!year) return std::nullopt;
    return make_time(*year, parse_month(parts[2]), parse_int(parts[1], 1, 2),
                     parse_time_of_day(parts[4]));
  }
  if (parts.size() == 4 && parts[0].ends_with(',') && parts[3] == "GMT") {
    // RFC 850: Sunday, 06-Nov-94 08:49:37 GMT
    const std::string_view date = parts[1];
    if (date.size() != 9 || date[2] != '-' || date[6] != '-') return std::nullopt;
    const auto two_digit_year = parse_int(date.substr(7, 2), 2, 2);
    if (!two_digit_year) return std::nullopt;
    // RFC 9110: a two-digit year more than 50 years ahead is in the past century; for a
    // Retry-After, "before 1970" can only mean the 2000s.
    const int year = *two_digit_year < 70 ? 2000 + *two_digit_year : 1900 + *two_digit_year;
    return make_time(year, parse_month(date.substr(3, 3)), parse_int(date.substr(0, 2), 2, 2),
                     parse_time_of_day(parts[2]));
  }
  if (parts.size() == 5) {
    // asctime: Sun Nov  6 08:49:37 1994
    const auto year = parse_int(parts[4], 4, 4);
    if (!year) return std::nullopt;
    return make_time(*year, parse_month(parts[1]), parse_int(parts[2], 1, 2),
                     parse_time_of_day(parts[3]));
  }
  return std::nullopt;
}

}  // namespace

std::optional<seconds> parse_retry_after(std::string_view value,
                                         std::chrono::system_clock::time_point now) {
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  if (value.empty()) return std::nullopt;

  if (std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    std::uint64_t delta = 0;
    const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), delta);
    if (ec == std::errc::result_out_of_range) return kMaxRetryAfter;
    if (ec != std::errc() || end != value.data() + value.size()) return std::nullopt;
    const auto cap = static_cast<std::uint64_t>(kMaxRetryAfter.count());
    return seconds(static_cast<seconds::rep>(std::min(delta, cap)));
  }

  const auto when = parse_http_date(value);
  if (!when) return std::nullopt;
  // Counted from the start of now's second: a fraction of a second is rounded up, since
  // retrying early would defeat the header.
  const auto now_second = std::chrono::floor<seconds>(now);
  if (*when <= now_second) return seconds(0);
  return std::min(*when - now_second, kMaxRetryAfter);
}

}  // namespace pushgw::provider
