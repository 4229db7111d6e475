// api/token_request: the paths and query of GET/DELETE /tokens/{platform}/{token}.
#include "pushgw/api/token_request.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "job/fixtures.hpp"

namespace pushgw::api {
namespace {

using ::testing::HasSubstr;
using pushgw::testing::demo_context;
using pushgw::testing::fcm_token;
using pushgw::testing::ios_token;

TokenRequest parse_ok(const std::string& target, const job::ValidationContext& ctx = demo_context()) {
  auto r = parse_token_request(target, ctx);
  if (auto* e = std::get_if<ApiError>(&r)) {
    ADD_FAILURE() << target << " → " << e->status << " " << e->path << ": " << e->error;
    return {};
  }
  return std::get<TokenRequest>(r);
}

ApiError parse_error(const std::string& target, const job::ValidationContext& ctx = demo_context()) {
  auto r = parse_token_request(target, ctx);
  if (auto* e = std::get_if<ApiError>(&r)) return *e;
  ADD_FAILURE() << target << " was accepted";
  return {};
}

TEST(TokenRequest, NamesAppPlatformAndToken) {
  EXPECT_EQ(parse_ok("/tokens/ios/" + ios_token(1) + "?app=demo"),
            (TokenRequest{"demo", job::Platform::ios, ios_token(1)}));
  // One app configured: app may be left out, as in /push.
  EXPECT_EQ(parse_ok("/tokens/android/" + fcm_token(7)), (TokenRequest{"demo", job::Platform::android, fcm_token(7)}));
  // A percent-encoded token (':' as %3A) is decoded.
  std::string encoded = fcm_token(7);
  encoded.replace(encoded.find(':'), 1, "%3A");
  EXPECT_EQ(parse_ok("/tokens/android/" + encoded + "?x=1&app=demo").token, fcm_token(7));
}

TEST(TokenRequest, UnknownPlatformOrAppIs404AndABadTokenIs400WithItsPath) {
  EXPECT_EQ(parse_error("/tokens/web/" + ios_token(1)).status, 404);
  EXPECT_EQ(parse_error("/tokens/web/" + ios_token(1)).path, "platform");
  const ApiError unknown_app = parse_error("/tokens/ios/" + ios_token(1) + "?app=nope");
  EXPECT_EQ(unknown_app.status, 404);
  EXPECT_EQ(unknown_app.path, "app");
  EXPECT_THAT(unknown_app.error, HasSubstr("nope"));

  auto ios_only = demo_context();
  ios_only.apps["demo"].fcm = false;
  EXPECT_EQ(parse_error("/tokens/android/" + fcm_token(1), ios_only).status, 404);

  auto two_apps = demo_context();
  two_apps.apps["other"] = job::AppProviders{true, false};
  EXPECT_EQ(parse_error("/tokens/ios/" + ios_token(1), two_apps).status, 400) << "which app?";

  const ApiError bad = parse_error("/tokens/ios/xyz?app=demo");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.path, "token");
  EXPECT_THAT(bad.error, HasSubstr("APNs device token"));
  EXPECT_EQ(parse_error("/tokens/ios/ab%zz").path, "token");
  EXPECT_EQ(parse_error("/tokens/ios/").status, 404);
  EXPECT_EQ(parse_error("/tokens/ios").status, 404);
}

TEST(QueryParameter, FindsDecodesOrSaysAbsent) {
  EXPECT_EQ(query_parameter("/p?a=1&app=my%20app&b", "app"), "my app");
  EXPECT_EQ(query_parameter("/p?app=a+b", "app"), "a b");
  EXPECT_EQ(query_parameter("/p?b=app", "app"), std::nullopt);
  EXPECT_EQ(query_parameter("/p", "app"), std::nullopt);
  EXPECT_EQ(query_parameter("/p?app", "app"), "");
  EXPECT_EQ(query_parameter("/p?app=%4", "app"), std::nullopt);
}

}  // namespace
}  // namespace pushgw::api
