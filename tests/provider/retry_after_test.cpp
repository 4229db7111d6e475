// provider/retry_after: both forms of Retry-After, capped, rounded up.
#include "pushgw/provider/retry_after.hpp"

#include <gtest/gtest.h>

namespace pushgw::provider {
namespace {

using std::chrono::seconds;

TEST(ParseRetryAfter, DeltaSeconds) {
  const auto now = std::chrono::system_clock::now();
  EXPECT_EQ(parse_retry_after("0", now), seconds(0));
  EXPECT_EQ(parse_retry_after(" 30 ", now), seconds(30));
  EXPECT_EQ(parse_retry_after("999999999999999999999999", now), kMaxRetryAfter);
  EXPECT_EQ(parse_retry_after("86401", now), kMaxRetryAfter);
  EXPECT_EQ(parse_retry_after("-5", now), std::nullopt);
  EXPECT_EQ(parse_retry_after("1.5", now), std::nullopt);
  EXPECT_EQ(parse_retry_after("", now), std::nullopt);
}

TEST(ParseRetryAfter, HttpDatesInAllThreeForms) {
  const auto now = std::chrono::sys_days(std::chrono::year(1994) / 11 / 6) + std::chrono::hours(8);
  const auto expected = seconds(49 * 60 + 37);
  EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now), expected);
  EXPECT_EQ(parse_retry_after("Sunday, 06-Nov-94 08:49:37 GMT", now), expected);
  EXPECT_EQ(parse_retry_after("Sun Nov  6 08:49:37 1994", now), expected);
}

TEST(ParseRetryAfter, PastDatesAreZeroAndFarDatesAreCapped) {
  const auto now = std::chrono::sys_days(std::chrono::year(2030) / 1 / 1);
  EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now), seconds(0));
  EXPECT_EQ(parse_retry_after("Fri, 01 Jan 2100 00:00:00 GMT", now), kMaxRetryAfter);
  // Fractions of a second round up, never down.
  EXPECT_EQ(parse_retry_after("Tue, 01 Jan 2030 00:00:01 GMT", now + std::chrono::milliseconds(500)), seconds(1));
}

// Found by fuzz/provider_response: system_clock's nanoseconds overflowed (undefined behaviour,
// in practice a wrong delay) for a date after 2262, which a 4-digit year can name.
TEST(ParseRetryAfter, DatesAfterTheYear2262AreCappedWithoutOverflow) {
  const auto now = std::chrono::sys_days(std::chrono::year(2030) / 1 / 1);
  EXPECT_EQ(parse_retry_after("Wed, 21 Oct 4030 07:28:00 GMT", now), kMaxRetryAfter);
  EXPECT_EQ(parse_retry_after("Fri, 31 Dec 9999 23:59:59 GMT", now), kMaxRetryAfter);
  EXPECT_EQ(parse_retry_after("Fri Dec 31 23:59:59 9999", now), kMaxRetryAfter);
}

TEST(ParseRetryAfter, MalformedDatesAreRejected) {
  const auto now = std::chrono::system_clock::now();
  for (const char* bad : {"Sun, 31 Feb 2030 08:49:37 GMT", "Sun, 06 Foo 1994 08:49:37 GMT",
                          "Sun, 06 Nov 1994 25:49:37 GMT", "Sun, 06 Nov 1994 08:49:37 PST",
                          "Sun, 06 Nov 1994 08:49 GMT", "Sunday, 6-Nov-94 08:49:37 GMT", "tomorrow"}) {
    EXPECT_EQ(parse_retry_after(bad, now), std::nullopt) << bad;
  }
}

}  // namespace
}  // namespace pushgw::provider
