#include "pushgw/apns/error.hpp"

#include <gtest/gtest.h>

namespace pushgw::apns {
namespace {

TEST(ApnsError, CodesBelongToTheApnsCategoryWithReadableMessages) {
  const boost::system::error_code code = error::not_an_ec_p256_key;
  EXPECT_EQ(&code.category(), &error_category());
  EXPECT_STREQ(code.category().name(), "pushgw.apns");
  EXPECT_EQ(code.message(), "not an EC P-256 key");
  for (int value = static_cast<int>(error::missing_setting); value <= static_cast<int>(error::signing_failed);
       ++value) {
    EXPECT_EQ(error_category().message(value).find("unknown"), std::string::npos) << value;
  }
  EXPECT_NE(error_category().message(999).find("unknown"), std::string::npos);
}

TEST(ApnsError, CredentialsErrorCarriesCodeAndMessage) {
  const CredentialsError e(error::file_unreadable, "apps.a.apns.auth.key_file: /x.p8: cannot read");
  EXPECT_EQ(e.code(), error::file_unreadable);
  EXPECT_STREQ(e.what(), "apps.a.apns.auth.key_file: /x.p8: cannot read");
}

}  // namespace
}  // namespace pushgw::apns
