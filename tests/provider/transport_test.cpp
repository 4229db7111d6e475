// provider/transport: sends without an HTTP answer, as every provider classifies them.
#include "pushgw/provider/transport.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/system/errc.hpp>

#include "pushgw/h2/error.hpp"

namespace pushgw::provider {
namespace {

using job::OutcomeKind;
using ::testing::HasSubstr;

TEST(ClassifyTransportError, IsRetryWithoutStatus) {
  const auto outcome = classify_transport_error(make_error_code(boost::system::errc::connection_reset));
  EXPECT_EQ(outcome.kind, OutcomeKind::retry);
  EXPECT_EQ(outcome.status, 0);
  EXPECT_THAT(outcome.reason, HasSubstr("transport error: "));
  EXPECT_THAT(outcome.reason, HasSubstr("reset"));

  for (const auto e : {h2::error::connect_failed, h2::error::tls_failed, h2::error::not_processed,
                       h2::error::stream_reset, h2::error::timeout, h2::error::connection_lost,
                       h2::error::closed, h2::error::no_connection}) {
    EXPECT_EQ(classify_transport_error(h2::make_error_code(e)).kind, OutcomeKind::retry)
        << h2::make_error_code(e).message();
  }
}

TEST(ClassifyTransportError, AnUnencodableRequestIsRejected) {
  const auto outcome = classify_transport_error(h2::make_error_code(h2::error::bad_request));
  EXPECT_EQ(outcome.kind, OutcomeKind::rejected);
  EXPECT_EQ(outcome.status, 0);
}

TEST(ClassifyTransportError, OnlyRequestsThatWentOutAreUnanswered) {
  for (const auto e : {h2::error::timeout, h2::error::connection_lost, h2::error::stream_reset, h2::error::protocol}) {
    EXPECT_TRUE(classify_transport_error(h2::make_error_code(e)).unanswered) << h2::make_error_code(e).message();
  }
  for (const auto e : {h2::error::connect_failed, h2::error::tls_failed, h2::error::not_processed, h2::error::closed,
                       h2::error::no_connection, h2::error::bad_request}) {
    EXPECT_FALSE(classify_transport_error(h2::make_error_code(e)).unanswered) << h2::make_error_code(e).message();
  }
}

}  // namespace
}  // namespace pushgw::provider
