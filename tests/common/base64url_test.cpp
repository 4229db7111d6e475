// common/base64url.hpp: RFC 4648 §5 vectors, the URL alphabet, padding and bad input.
#include "pushgw/common/base64url.hpp"

#include <gtest/gtest.h>

namespace pushgw::common {
namespace {

TEST(Base64Url, EncodesRfc4648VectorsWithoutPadding) {
  EXPECT_EQ(base64url_encode(""), "");
  EXPECT_EQ(base64url_encode("f"), "Zg");
  EXPECT_EQ(base64url_encode("fo"), "Zm8");
  EXPECT_EQ(base64url_encode("foo"), "Zm9v");
  EXPECT_EQ(base64url_encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64url_encode(std::string("\xfb\xff\xbf", 3)), "-_-_");  // URL alphabet, not +/
}

TEST(Base64Url, DecodesWithAndWithoutPaddingAndRejectsGarbage) {
  EXPECT_EQ(base64url_decode("Zm8"), "fo");
  EXPECT_EQ(base64url_decode("Zm8="), "fo");
  EXPECT_EQ(base64url_decode("-_-_"), std::string("\xfb\xff\xbf", 3));
  EXPECT_EQ(base64url_decode("Zm9v+A"), std::nullopt);  // '+' is standard base64, not base64url
  EXPECT_EQ(base64url_decode("Zm9vY"), std::nullopt);   // 5 chars cannot encode whole bytes
  std::string all_bytes;
  for (int i = 0; i < 256; ++i) all_bytes += static_cast<char>(i);
  EXPECT_EQ(base64url_decode(base64url_encode(all_bytes)), all_bytes);
}

}  // namespace
}  // namespace pushgw::common
