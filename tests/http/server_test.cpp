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
                                       [this](const CompletedRequest& c) { statuses_.push_back(c.status); });
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
  std::vector<int> statuses_;
};

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
