#include "pushgw/fcm/error.hpp"

#include <gtest/gtest.h>

namespace pushgw::fcm {
namespace {

TEST(FcmError, CodesBelongToTheFcmCategoryAndHaveMessages) {
  const boost::system::error_code ec = error::not_an_rsa_key;
  EXPECT_STREQ(ec.category().name(), "pushgw.fcm");
  EXPECT_EQ(ec.message(), "not a PEM RSA private key");
  for (int value = static_cast<int>(error::missing_setting); value <= static_cast<int>(error::signing_failed);
       ++value) {
    const auto message = make_error_code(static_cast<error>(value)).message();
    EXPECT_FALSE(message.empty());
    EXPECT_EQ(message.find("unknown"), std::string::npos) << value;
  }
  EXPECT_EQ(error_category().message(999), "unknown pushgw.fcm error 999");
}

TEST(FcmError, CredentialsErrorCarriesCodeAndMessage) {
  const CredentialsError e(error::missing_field, "apps.demo.fcm.service_account_file: x.json: project_id: missing");
  EXPECT_EQ(e.code(), error::missing_field);
  EXPECT_STREQ(e.what(), "apps.demo.fcm.service_account_file: x.json: project_id: missing");
}

}  // namespace
}  // namespace pushgw::fcm
