// common/quote.hpp: untrusted input quoted in messages stays short and readable.
#include "pushgw/common/quote.hpp"

#include <gtest/gtest.h>

namespace pushgw::common {
namespace {

TEST(Quote, ShortInputIsQuotedWhole) {
  EXPECT_EQ(quote("titel"), "\"titel\"");
  EXPECT_EQ(quote("a\"b\\c"), "\"a\\\"b\\\\c\"");
}

TEST(Quote, LongInputIsCutAndItsLengthSaid) {
  const std::string huge(900 * 1024, 'k');
  const std::string q = quote(huge);
  EXPECT_LT(q.size(), 100u);
  EXPECT_EQ(q.substr(0, 6), "\"kkkkk");
  EXPECT_NE(q.find("\xE2\x80\xA6\" (921600 bytes)"), std::string::npos) << q;
}

TEST(Quote, ControlAndInvalidBytesAreEscapedOrReplaced) {
  EXPECT_EQ(quote(std::string("a\0b\n", 4)), "\"a\\u0000b\\u000a\"");
  EXPECT_EQ(quote("\xFF"), "\"\xEF\xBF\xBD\"");
}

TEST(Quote, NeverSplitsAMultiByteCharacter) {
  // 47 ASCII bytes then a 3-byte character crossing the 48-byte cut: the character is left out
  // whole, not cut into an invalid sequence.
  std::string s(47, 'a');
  s.append("\xE2\x82\xACtail");
  const std::string q = quote(s);
  EXPECT_EQ(q.find("\xEF\xBF\xBD"), std::string::npos) << q;
  EXPECT_EQ(q.substr(0, 48), "\"" + std::string(47, 'a'));
}

}  // namespace
}  // namespace pushgw::common
