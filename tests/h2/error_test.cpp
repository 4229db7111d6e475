#include "pushgw/h2/error.hpp"

#include <gtest/gtest.h>

namespace pushgw::h2 {
namespace {

TEST(H2Error, CategoryIsNamedAndMessagesAreDistinct) {
  EXPECT_STREQ(error_category().name(), "pushgw.h2");
  const boost::system::error_code ec = error::alpn_not_h2;
  EXPECT_EQ(&ec.category(), &error_category());
  EXPECT_NE(ec.message().find("ALPN"), std::string::npos);
  EXPECT_NE(make_error_code(error::timeout).message(), make_error_code(error::closed).message());
  EXPECT_NE(error_category().message(999).find("999"), std::string::npos);
}

TEST(H2Error, NeverSentTellsWhichErrorsAreSafeToResend) {
  EXPECT_TRUE(never_sent(error::not_processed));
  EXPECT_TRUE(never_sent(error::no_connection));
  EXPECT_TRUE(never_sent(error::connect_failed));
  EXPECT_FALSE(never_sent(error::timeout));
  EXPECT_FALSE(never_sent(error::connection_lost));
  EXPECT_FALSE(never_sent(error::stream_reset));
  EXPECT_FALSE(never_sent(boost::system::error_code{}));
}

}  // namespace
}  // namespace pushgw::h2
