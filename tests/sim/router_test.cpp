#include "pushgw/sim/router.hpp"

#include <gtest/gtest.h>

namespace pushgw::sim {
namespace {

Route route(std::string method, std::string path, bool prefix, std::string tag) {
  return Route{.method = std::move(method),
               .path = std::move(path),
               .prefix = prefix,
               .counted = true,
               .http1 = false,
               .handler = [tag](const Request&, Response& response, ConnectionContext&) {
                 response.body = tag;
               }};
}

Request make(std::string_view method, std::string_view path) {
  Request request;
  request.set_method(method);
  request.set_path(path);
  return request;
}

TEST(SimRouter, MatchesExactPathsAndPrefixes) {
  Router router;
  router.add(route("POST", "/3/device/", true, "apns"));
  router.add(route("GET", "/sim/stats", false, "stats"));
  Response response;
  ConnectionContext context;

  ASSERT_NE(router.dispatch(make("POST", "/3/device/abcd"), response, context), nullptr);
  EXPECT_EQ(response.body, "apns");
  response.clear();
  ASSERT_NE(router.dispatch(make("GET", "/sim/stats?pretty=1"), response, context), nullptr);
  EXPECT_EQ(response.body, "stats");

  int status = 0;
  EXPECT_EQ(router.find("GET", "/sim/statsx", &status), nullptr);
  EXPECT_EQ(status, 404);
}

TEST(SimRouter, UnknownPathIs404BadPathAndWrongMethodIs405) {
  Router router;
  router.add(route("POST", "/3/device/", true, "apns"));
  ConnectionContext context;

  Response missing;
  EXPECT_EQ(router.dispatch(make("POST", "/4/device/x"), missing, context), nullptr);
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.body, R"({"reason":"BadPath"})");
  EXPECT_EQ(missing.reason, "BadPath");

  Response wrong_method;
  EXPECT_EQ(router.dispatch(make("GET", "/3/device/x"), wrong_method, context), nullptr);
  EXPECT_EQ(wrong_method.status, 405);
  EXPECT_EQ(wrong_method.reason, "MethodNotAllowed");
}

TEST(SimRouter, FirstMatchingRouteWins) {
  Router router;
  router.add(route("POST", "/a/b", false, "exact"));
  router.add(route("POST", "/a/", true, "prefix"));
  Response response;
  ConnectionContext context;
  router.dispatch(make("POST", "/a/b"), response, context);
  EXPECT_EQ(response.body, "exact");
  response.clear();
  router.dispatch(make("POST", "/a/c"), response, context);
  EXPECT_EQ(response.body, "prefix");
}

}  // namespace
}  // namespace pushgw::sim
