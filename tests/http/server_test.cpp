// The HTTP server in-process on a real loopback socket, driven by the plain test client.

#include <gtest/gtest.h>

#include <boost/asio.hpp>
#include <nlohmann/json.hpp>

#include <future>
#include <thread>

#include "pushgw/http/server.hpp"
#include "support/http_client.hpp"

namespace pushgw::http {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using test::HttpRequest;
using test::RawConnection;

struct Reported {
  std::string route, method, target;
  int status = 0;
};

// Runs a Server on its own io_context thread for one test.
class ServerHarness {
 public:
  explicit ServerHarness(ServerConfig config, std::vector<Route> extra_routes = {}) {
    config.host = "127.0.0.1";
    config.port = 0;
    std::vector<Route> routes = {
        {"GET", "/hello", false, [](const Request&) -> asio::awaitable<Response> { co_return Response::json(200, R"({"hello":true})"); }},
        {"POST", "/echo", true, [](const Request& r) -> asio::awaitable<Response> {
           Response out = Response::json(200, r.body);
           out.content_type = std::string(r.header("content-type").value_or("none"));
           co_return out;
         }},
        {"GET", "/throws", false, [](const Request&) -> asio::awaitable<Response> {
           throw std::runtime_error("boom");
           co_return Response{};
         }},
        {"GET", "/slow", false, [this](const Request&) -> asio::awaitable<Response> {
           asio::steady_timer t(io_, 300ms);
           co_await t.async_wait(asio::use_awaitable);
           co_return Response::json(200, R"({"slow":true})");
         }},
    };
    for (auto& r : extra_routes) routes.push_back(std::move(r));
    server_ = std::make_unique<Server>(io_.get_executor(), std::move(config), std::move(routes),
                                       [this](const CompletedRequest& c) {
                                         reports_.push_back({std::string(c.route), std::string(c.method),
                                                             std::string(c.target), c.status});
                                       });
    server_->start();
    thread_ = std::thread([this] { io_.run(); });
  }
  ~ServerHarness() {
    io_.stop();
    thread_.join();
  }
  std::uint16_t port() const { return server_->port(); }
  std::size_t connections() {
    return asio::post(io_, asio::use_future([this] { return server_->connections(); })).get();
  }
  std::size_t pending_body_bytes() {
    return asio::post(io_, asio::use_future([this] { return server_->pending_body_bytes(); })).get();
  }
  std::vector<Reported> reports() {
    return asio::post(io_, asio::use_future([this] { return reports_; })).get();
  }
  // Starts the drain; the future is ready when shutdown() returned.
  std::future<void> shutdown(std::chrono::milliseconds deadline) {
    return asio::co_spawn(io_, server_->shutdown(deadline), asio::use_future);
  }

 private:
  asio::io_context io_;
  // Keeps run() going after a drain leaves the server with nothing to do, so the test can
  // still ask it questions.
  asio::executor_work_guard<asio::io_context::executor_type> work_ = asio::make_work_guard(io_);
  std::unique_ptr<Server> server_;
  std::thread thread_;
  std::vector<Reported> reports_;
};

// Polls a condition for up to 10 s.
template <class Condition>
bool eventually(Condition condition) {
  for (int i = 0; i < 1000; ++i) {
    if (condition()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return condition();
}

Route healthz_route() {
  return {"GET", "/healthz", false, [](const Request&) -> asio::awaitable<Response> { co_return Response::json(200, "{}"); }};
}

// Opens `count` connections whose request header never ends, and waits until the server holds
// them all.
std::vector<std::unique_ptr<RawConnection>> hold_slow_connections(ServerHarness& h, std::size_t count,
                                                                  const std::string& start = "GET /hello HTTP/1.1\r\n") {
  std::vector<std::unique_ptr<RawConnection>> held;
  const std::size_t before = h.connections();
  for (std::size_t i = 0; i < count; ++i) {
    held.push_back(std::make_unique<RawConnection>(h.port()));
    held.back()->send(start);
  }
  EXPECT_TRUE(eventually([&] { return h.connections() == before + count; })) << h.connections();
  return held;
}

// Timeouts that never end a test by themselves: what a test waits for must come from the limit
// under test.
ServerConfig patient_config() {
  ServerConfig config;
  config.header_timeout = 60s;
  config.read_timeout = 60s;
  config.idle_timeout = 60s;
  return config;
}

TEST(RouteMatches, ExactOrEverythingBelowARouteEndingInASlash) {
  EXPECT_TRUE(route_matches("/push", "/push"));
  EXPECT_FALSE(route_matches("/push", "/push/x"));
  EXPECT_TRUE(route_matches("/tokens/", "/tokens/ios/ab"));
  EXPECT_FALSE(route_matches("/tokens/", "/tokens/"));
  EXPECT_FALSE(route_matches("/tokens/", "/tokensx/ios"));
  EXPECT_TRUE(route_matches("/", "/")) << "the root is exact";
  EXPECT_FALSE(route_matches("/", "/push"));
}

TEST(Server, RoutesRequestsAndKeepsConnectionsAlive) {
  ServerHarness h(ServerConfig{});
  RawConnection c(h.port());
  c.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\nGET /hello?x=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  auto both = c.read_response();
  ASSERT_EQ(both.status, 200) << both.error;
  // Two answers on one connection, the second closing it.
  const auto second = both.raw.find("HTTP/1.1 200", 1);
  ASSERT_NE(second, std::string::npos) << both.raw;
  EXPECT_EQ(both.raw.find("Connection: close"), both.raw.find("Connection: close", second)) << both.raw;
}

TEST(Server, Answers404And405WithAllow) {
  ServerHarness h(ServerConfig{});
  EXPECT_EQ(test::get(h.port(), "/missing").status, 404);
  auto r = test::post_json(h.port(), "/hello", "{}");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.headers["allow"], "GET");
}

TEST(Server, AHandlerThatThrowsGives500AndTheServerGoesOn) {
  ServerHarness h(ServerConfig{});
  auto r = test::get(h.port(), "/throws");
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(nlohmann::json::parse(r.body)["error"], "internal error");
  EXPECT_EQ(test::get(h.port(), "/hello").status, 200);
}

TEST(Server, RequiresAnApiKeyOnlyWhereTheRouteSaysSo) {
  ServerConfig config;
  config.api_keys = {"s3cret"};
  ServerHarness h(config);
  EXPECT_EQ(test::post_json(h.port(), "/echo", "{}").status, 401);
  EXPECT_EQ(test::post_json(h.port(), "/echo", "{}", {{"Authorization", "Bearer wrong"}}).status, 401);
  auto ok = test::post_json(h.port(), "/echo", R"({"a":1})", {{"Authorization", "Bearer s3cret"}});
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ok.body, R"({"a":1})");
  EXPECT_EQ(test::get(h.port(), "/hello").status, 200);
}

TEST(Server, RejectsBodiesOverTheLimitByContentLengthAndWhileChunked) {
  ServerConfig config;
  config.max_body_bytes = 100;
  ServerHarness h(config);
  EXPECT_EQ(test::post_json(h.port(), "/echo", std::string(100, 'x')).status, 200);
  auto big = test::post_json(h.port(), "/echo", std::string(101, 'x'));
  EXPECT_EQ(big.status, 413);
  EXPECT_NE(big.body.find("100"), std::string::npos);
  std::string chunked = "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 5; ++i) chunked += "20\r\n" + std::string(32, 'y') + "\r\n";
  chunked += "0\r\n\r\n";
  EXPECT_EQ(test::raw_request(h.port(), chunked).status, 413);
}

TEST(Server, RejectsHeadersOverTheLimitWith431) {
  ServerConfig config;
  config.max_header_bytes = 1024;
  ServerHarness h(config);
  auto r = test::http_request(h.port(), HttpRequest{"GET", "/hello", {{"X-Big", std::string(2000, 'h')}}, ""});
  EXPECT_EQ(r.status, 431);
}

TEST(Server, MalformedRequestsGet400) {
  ServerHarness h(ServerConfig{});
  EXPECT_EQ(test::raw_request(h.port(), "GARBAGE\r\n\r\n").status, 400);
  EXPECT_EQ(test::raw_request(h.port(), "GET /hello HTTP/1.1\r\nContent-Length: nope\r\n\r\n").status, 400);
}

TEST(Server, AnswersExpect100Continue) {
  ServerHarness h(ServerConfig{});
  RawConnection c(h.port());
  c.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n");
  c.send("{}");
  auto r = c.read_response();
  EXPECT_EQ(r.status, 100);
  EXPECT_NE(r.raw.find("HTTP/1.1 200"), std::string::npos) << r.raw;
}

TEST(Server, ClosesAConnectionThatDoesNotSendItsRequestInTime) {
  ServerConfig config;
  config.read_timeout = 200ms;
  ServerHarness h(config);
  RawConnection c(h.port());
  c.send("GET /hello HTTP/1.1\r\n");  // never finished
  auto r = c.read_response(20s);
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.error, "connection closed without a response");
}

TEST(Server, OverMaxConnectionsANewConnectionGets503) {
  ServerConfig config;
  config.max_connections = 2;
  ServerHarness h(config);
  RawConnection a(h.port()), b(h.port());
  a.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");  // keep-alive: stays open
  b.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
  for (int i = 0; i < 200 && h.connections() < 2; ++i) std::this_thread::sleep_for(10ms);
  ASSERT_EQ(h.connections(), 2u);
  auto third = test::get(h.port(), "/hello");
  EXPECT_EQ(third.status, 503);
  EXPECT_NE(third.body.find("too many connections"), std::string::npos);
}

TEST(Server, DrainFinishesRequestsInProgressAndClosesIdleConnections) {
  ServerHarness h(ServerConfig{});
  RawConnection idle(h.port());
  RawConnection busy(h.port());
  busy.send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n");
  for (int i = 0; i < 200 && h.connections() < 2; ++i) std::this_thread::sleep_for(10ms);
  auto drained = h.shutdown(10s);
  auto answer = busy.read_response();
  EXPECT_EQ(answer.status, 200) << answer.error;
  EXPECT_EQ(answer.headers["connection"], "close");
  EXPECT_EQ(idle.read_response().status, 0);
  EXPECT_EQ(drained.wait_for(10s), std::future_status::ready);
  EXPECT_EQ(h.connections(), 0u);
  EXPECT_FALSE(RawConnection(h.port()).connected());
}

// ---- Unauthenticated clients cannot hold memory: the key is checked from the header alone,
// and all unfinished bodies together are bounded.

TEST(Server, AnswersAMissingOrWrongApiKeyBeforeReadingTheBody) {
  ServerConfig config = patient_config();
  config.api_keys = {"s3cret"};
  ServerHarness h(config);
  RawConnection missing(h.port());
  missing.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n");
  auto r = missing.read_response(20s);
  EXPECT_EQ(r.status, 401) << r.error;
  EXPECT_EQ(r.headers["connection"], "close");
  // Expect: 100-continue gets the 401 instead of an invitation to send the body.
  RawConnection wrong(h.port());
  wrong.send("POST /echo HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer nope\r\nContent-Length: 1000\r\nExpect: 100-continue\r\n\r\n");
  auto w = wrong.read_response(20s);
  EXPECT_EQ(w.status, 401) << w.error;
  EXPECT_EQ(w.raw.find("100 Continue"), std::string::npos) << w.raw;
  EXPECT_EQ(h.pending_body_bytes(), 0u);
}

TEST(Server, BoundsTheBytesOfUnfinishedBodiesAcrossConnections) {
  ServerConfig config = patient_config();
  config.max_body_bytes = 1000;
  config.max_pending_body_bytes = 1500;
  ServerHarness h(config);
  RawConnection holding(h.port());
  holding.send("POST /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 1000\r\n\r\n" + std::string(10, 'a'));
  ASSERT_TRUE(eventually([&] { return h.pending_body_bytes() == 1000; })) << h.pending_body_bytes();

  auto over = test::post_json(h.port(), "/echo", std::string(600, 'b'));
  EXPECT_EQ(over.status, 503) << over.error;
  EXPECT_EQ(over.headers["retry-after"], "1");
  // A chunked body reserves as it grows, a read ahead: no room for it either.
  auto chunked = test::raw_request(h.port(), "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n");
  EXPECT_EQ(chunked.status, 503) << chunked.error;
  EXPECT_EQ(test::post_json(h.port(), "/echo", std::string(500, 'c')).status, 200);  // fits beside it

  holding.send(std::string(990, 'a'));
  EXPECT_EQ(holding.read_response().status, 200);
  ASSERT_TRUE(eventually([&] { return h.pending_body_bytes() == 0; })) << h.pending_body_bytes();
  EXPECT_EQ(test::post_json(h.port(), "/echo", std::string(600, 'b')).status, 200);
}

// ---- Floods: probes stay answerable, slow senders are closed, refusals are counted.

TEST(Server, OverMaxConnectionsProbesAreStillAnswered) {
  ServerConfig config = patient_config();
  config.max_connections = 2;
  config.probe_connections = 1;
  ServerHarness h(config, {healthz_route()});
  const auto slow = hold_slow_connections(h, 2);  // both places

  EXPECT_EQ(test::get(h.port(), "/healthz").status, 200);
  auto other = test::get(h.port(), "/hello");
  EXPECT_EQ(other.status, 503);
  EXPECT_NE(other.body.find("too many connections"), std::string::npos) << other.body;
  EXPECT_EQ(other.headers["retry-after"], "1");

  // A slow sender in the reserve gives way to the next probe.
  ASSERT_TRUE(eventually([&] { return h.connections() == 2; }));
  const auto in_reserve = hold_slow_connections(h, 1, "GET /healthz HTTP/1.1\r\n");
  EXPECT_EQ(test::get(h.port(), "/healthz").status, 200);
  EXPECT_EQ(in_reserve[0]->read_response(20s).status, 503);
}

TEST(Server, RefusalsOverTheConnectionLimitAreReported) {
  ServerConfig config = patient_config();
  config.max_connections = 1;
  config.probe_connections = 0;
  ServerHarness h(config);
  const auto slow = hold_slow_connections(h, 1);
  EXPECT_EQ(test::get(h.port(), "/hello").status, 503);
  EXPECT_TRUE(eventually([&] {
    for (const auto& r : h.reports()) {
      if (r.route == "unmatched" && r.status == 503) return true;
    }
    return false;
  }));
}

TEST(Server, ClosesAConnectionWhoseHeaderArrivesTooSlowly) {
  ServerConfig config = patient_config();
  config.header_timeout = 200ms;
  ServerHarness h(config);
  RawConnection fresh(h.port());
  fresh.send("GET /hello HTTP/1.1\r\n");
  EXPECT_EQ(fresh.read_response(20s).error, "connection closed without a response");
  EXPECT_TRUE(eventually([&] { return !h.reports().empty() && h.reports().back().status == 408; }));
  // On a kept-alive connection the header timeout runs from the next request's first byte.
  RawConnection kept(h.port());
  kept.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\nGET /hello HTTP/1.1\r\n");
  EXPECT_EQ(kept.read_response(20s).status, 200);
  EXPECT_EQ(kept.read_response(1s).error, "connection closed without a response");
}

TEST(Server, ClosesAConnectionWhoseBodyArrivesTooSlowly) {
  ServerConfig config = patient_config();
  config.header_timeout = 200ms;
  config.min_receive_rate = 1024 * 1024;
  ServerHarness h(config);
  RawConnection c(h.port());
  c.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n" + std::string(10, 'a'));
  EXPECT_EQ(c.read_response(20s).error, "connection closed without a response");
  ASSERT_TRUE(eventually([&] { return h.pending_body_bytes() == 0; }));
  EXPECT_TRUE(eventually([&] { return !h.reports().empty() && h.reports().back().status == 408; }));
}

// ---- Framing (RFC 9112): anything that could be read two ways is refused.

TEST(Server, RejectsAmbiguousOrBadFramingWith400AndCloses) {
  ServerHarness h(ServerConfig{});
  const std::pair<const char*, std::string> cases[] = {
      {"Transfer-Encoding with Content-Length",
       "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\nContent-Length: 3\r\n\r\nabc"},
      {"chunked not last", "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n\r\n3\r\nabc\r\n0\r\n\r\n"},
      {"a coding besides chunked", "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"},
      {"no chunked", "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: identity\r\n\r\n3\r\nabc\r\n0\r\n\r\n"},
      {"empty Transfer-Encoding", "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: \r\n\r\n"},
      {"Transfer-Encoding in HTTP/1.0", "POST /echo HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"},
      {"obs-fold", "GET /hello HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n"},
      {"differing Content-Length", "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd"},
      {"no Host", "GET /hello HTTP/1.1\r\n\r\n"},
      {"two Hosts", "GET /hello HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"},
      {"bad Host", "GET /hello HTTP/1.1\r\nHost: a/b\r\n\r\n"},
      {"target not origin-form", "GET hello HTTP/1.1\r\nHost: x\r\n\r\n"},
      {"bad chunk size", "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n"},
      {"chunk longer than its size", "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n0\r\n\r\n"},
      {"endless chunk extension",
       "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3;" + std::string(40000, 'e')},
  };
  for (const auto& [name, raw] : cases) {
    SCOPED_TRACE(name);
    auto r = test::raw_request(h.port(), raw);
    EXPECT_EQ(r.status, 400) << r.error << r.raw;
    EXPECT_EQ(r.headers["connection"], "close");
    EXPECT_EQ(r.raw.find("\nHTTP/1.1 "), std::string::npos) << "a second response: " << r.raw;
    EXPECT_TRUE(nlohmann::json::parse(r.body, nullptr, false).contains("error")) << r.body;
  }
}

TEST(Server, AcceptsAbsoluteFormTargetsChunkExtensionsAndTrailers) {
  ServerHarness h(ServerConfig{});
  EXPECT_EQ(test::raw_request(h.port(), "GET http://x/hello?a=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").status, 200);
  auto r = test::raw_request(h.port(), "POST /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\nTransfer-Encoding: Chunked\r\n\r\n"
                                       "3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\nX-Trailer: 1\r\n\r\n");
  EXPECT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(r.body, "abcde");
}

TEST(Server, PassesTheWholeBodyToTheHandlerNulBytesIncluded) {
  ServerHarness h(ServerConfig{});
  const std::string body("{\"a\":1}\0garbage", 15);
  auto r = test::post_json(h.port(), "/echo", body);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, body);
}

// ---- Bad input always gets a clear, bounded 400.

TEST(Server, MalformedRequestLinesAndHeadersGet400WithAValidJsonBody) {
  ServerHarness h(ServerConfig{});
  const std::pair<const char*, std::string> cases[] = {
      {"raw non-UTF-8 target", "GET /\xff\xfe HTTP/1.1\r\nHost: x\r\n\r\n"},
      {"raw UTF-8 target", "GET /\xc3\xa9 HTTP/1.1\r\nHost: x\r\n\r\n"},
      {"8-bit method", "G\xffT /hello HTTP/1.1\r\nHost: x\r\n\r\n"},
      {"control byte in a header", "GET /hello HTTP/1.1\r\nHost: x\r\nX-A: a\x01z\r\n\r\n"},
      {"NUL in a header", std::string("GET /hello HTTP/1.1\r\nHost: x\r\nX-A: a\0z\r\n\r\n", 42)},
      {"space before a colon", "GET /hello HTTP/1.1\r\nHost : x\r\n\r\n"},
      {"bare LF", "GET /hello HTTP/1.1\nHost: x\n\n"},
  };
  for (const auto& [name, raw] : cases) {
    SCOPED_TRACE(name);
    auto r = test::raw_request(h.port(), raw);
    EXPECT_EQ(r.status, 400) << r.error << r.raw;
    const auto body = nlohmann::json::parse(r.body, nullptr, false);
    ASSERT_FALSE(body.is_discarded()) << r.body;
    EXPECT_LT(body["error"].get<std::string>().size(), 200u);
  }
  // Header values may carry obs-text: they are not framing.
  EXPECT_EQ(test::raw_request(h.port(), "GET /hello HTTP/1.1\r\nHost: x\r\nX-A: \xff\r\nConnection: close\r\n\r\n").status, 200);
}

TEST(Server, MessagesAndReportsQuoteAtMostAFewDozenBytesOfInput) {
  ServerHarness h(ServerConfig{});
  const std::string long_path = "/" + std::string(5000, 'p');
  auto missing = test::get(h.port(), long_path);
  EXPECT_EQ(missing.status, 404);
  EXPECT_LT(missing.body.size(), 200u) << missing.body;
  EXPECT_NE(missing.body.find("(5001 bytes)"), std::string::npos) << missing.body;

  auto method = test::http_request(h.port(), HttpRequest{std::string(3000, 'M'), "/hello", {}, ""});
  EXPECT_EQ(method.status, 405);
  EXPECT_LT(method.body.size(), 200u) << method.body;

  auto host = test::raw_request(h.port(), "GET /hello HTTP/1.1\r\nHost: " + std::string(3000, '/') + "\r\n\r\n");
  EXPECT_EQ(host.status, 400);
  EXPECT_LT(host.body.size(), 200u) << host.body;

  ASSERT_TRUE(eventually([&] { return h.reports().size() >= 3; }));
  for (const auto& r : h.reports()) {
    EXPECT_LT(r.target.size(), 100u) << r.target;
    EXPECT_LT(r.method.size(), 100u) << r.method;
  }
}

TEST(Server, StartFailsWithTheAddressWhenThePortIsTaken) {
  ServerHarness h(ServerConfig{});
  asio::io_context io;
  ServerConfig config;
  config.host = "127.0.0.1";
  config.port = h.port();
  Server second(io.get_executor(), config, {});
  try {
    second.start();
    FAIL() << "expected start() to throw";
  } catch (const std::system_error& e) {
    EXPECT_NE(std::string(e.what()).find("127.0.0.1:" + std::to_string(h.port())), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace pushgw::http
