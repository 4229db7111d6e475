#include "pushgw/sim/server.hpp"

#include <gtest/gtest.h>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

#include "pushgw/h2/connection.hpp"
#include "pushgw/h2/pool.hpp"
#include "sim/sim_fixture.hpp"

namespace pushgw::sim {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using h2::Request;
using h2::Result;
using testing::behaviour;
using testing::device_token;
using test::run_until_done;
using testing::SimServer;

// Sends `requests` one after another on one HTTP/2 connection.
std::vector<Result> send_in_order(const SimServer& sim, std::vector<Request> requests,
                                  std::uint32_t* limit_before = nullptr) {
  asio::io_context io;
  h2::Connection connection(io.get_executor(), sim.client_config());
  return run_until_done(io, [&]() -> asio::awaitable<std::vector<Result>> {
    const auto ec = co_await connection.connect();
    EXPECT_FALSE(ec) << ec.message() << ": " << connection.last_error_detail();
    if (limit_before) *limit_before = connection.max_concurrent_streams();
    std::vector<Result> results;
    for (auto& request : requests) results.push_back(co_await connection.async_request(std::move(request), asio::use_awaitable));
    co_return results;
  }());
}

Result send_one(const SimServer& sim, Request request) {
  return send_in_order(sim, {std::move(request)}).at(0);
}

std::string reason_of(const Result& result) {
  if (result.ec || result.response.body.empty()) return "";
  return nlohmann::json::parse(result.response.body).value("reason", "");
}

Request control(std::string method, std::string path, std::string body = "") {
  Request request;
  request.method = std::move(method);
  request.path = std::move(path);
  request.body = std::move(body);
  return request;
}

void set_header(Request& request, const std::string& name, const std::string& value) {
  for (auto& header : request.headers) {
    if (header.name == name) {
      header.value = value;
      return;
    }
  }
  request.headers.push_back({name, value});
}

void remove_header(Request& request, const std::string& name) {
  std::erase_if(request.headers, [&](const auto& header) { return header.name == name; });
}

TEST(SimServer, AcceptsARequestWithEveryHeaderSet) {
  SimServer sim;
  auto request = sim.apns_request(device_token(1));
  request.headers.push_back({"apns-id", "123e4567-e89b-12d3-a456-426614174000"});
  const Result result = send_one(sim, request);
  ASSERT_FALSE(result.ec) << result.ec.message();
  EXPECT_EQ(result.response.status, 200);
  EXPECT_EQ(*result.response.find_header("apns-id"), "123e4567-e89b-12d3-a456-426614174000");
  const auto stats = sim.stats();
  EXPECT_EQ(stats.received, 1u);
  EXPECT_EQ(stats.unique, 1u);
  EXPECT_EQ(stats.by_status.at(200), 1u);
}

TEST(SimServer, RejectsEachBadRequestWithTheApnsReason) {
  SimServer sim;
  struct Case {
    std::string name;
    Request request;
    int status;
    std::string reason;
  };
  std::vector<Case> cases;
  const auto add = [&](std::string name, int status, std::string reason, auto&& change) {
    Request request = sim.apns_request(device_token(cases.size()));
    change(request);
    cases.push_back({std::move(name), std::move(request), status, std::move(reason)});
  };
  add("no authorization", 403, "MissingProviderToken", [](Request& r) { remove_header(r, "authorization"); });
  add("garbage token", 403, "InvalidProviderToken", [](Request& r) { set_header(r, "authorization", "bearer x.y.z"); });
  add("expired token", 403, "ExpiredProviderToken", [&](Request& r) {
    set_header(r, "authorization",
               "bearer " + testing::sign_provider_token(sim.pki.apns_key_pem, testing::test_key_id,
                                                        testing::test_team_id, testing::unix_now() - 4000));
  });
  add("wrong key id", 403, "InvalidProviderToken", [&](Request& r) {
    set_header(r, "authorization",
               "bearer " + testing::sign_provider_token(sim.pki.apns_key_pem, "OTHERKEYID",
                                                        testing::test_team_id, testing::unix_now()));
  });
  add("short device token", 400, "BadDeviceToken", [](Request& r) { r.path = "/3/device/abcd"; });
  add("missing device token", 400, "MissingDeviceToken", [](Request& r) { r.path = "/3/device/"; });
  add("no topic", 400, "MissingTopic", [](Request& r) { remove_header(r, "apns-topic"); });
  add("bad push type", 400, "InvalidPushType", [](Request& r) { set_header(r, "apns-push-type", "loud"); });
  add("bad priority", 400, "BadPriority", [](Request& r) { set_header(r, "apns-priority", "11"); });
  add("bad expiration", 400, "BadExpirationDate", [](Request& r) { set_header(r, "apns-expiration", "-5"); });
  add("long collapse id", 400, "BadCollapseId", [](Request& r) { set_header(r, "apns-collapse-id", std::string(65, 'x')); });
  add("bad apns-id", 400, "BadMessageId", [](Request& r) { set_header(r, "apns-id", "42"); });
  add("empty payload", 400, "PayloadEmpty", [](Request& r) { r.body.clear(); });
  add("no aps", 400, "BadPayload", [](Request& r) { r.body = R"({"alert":"hi"})"; });
  add("not json", 400, "BadPayload", [](Request& r) { r.body = "hello"; });
  add("too large", 413, "PayloadTooLarge", [](Request& r) {
    r.body = R"({"aps":{"alert":")" + std::string(5000, 'x') + "\"}}";
  });
  add("wrong method", 405, "MethodNotAllowed", [](Request& r) { r.method = "PUT"; });
  add("unknown path", 404, "BadPath", [](Request& r) { r.path = "/2/device/" + device_token(1); });

  std::vector<Request> requests;
  for (const auto& c : cases) requests.push_back(c.request);
  const auto results = send_in_order(sim, std::move(requests));
  for (std::size_t i = 0; i < cases.size(); ++i) {
    ASSERT_FALSE(results[i].ec) << cases[i].name << ": " << results[i].ec.message();
    EXPECT_EQ(results[i].response.status, cases[i].status) << cases[i].name;
    EXPECT_EQ(reason_of(results[i]), cases[i].reason) << cases[i].name;
  }
  const auto stats = sim.stats();
  EXPECT_EQ(stats.received, cases.size());
  EXPECT_EQ(stats.unique, 0u);
  EXPECT_EQ(stats.by_reason.at("BadPayload"), 2u);
  EXPECT_EQ(stats.by_status.at(403), 4u);
}

TEST(SimServer, AdvertisesOneStreamUntilAnAuthorisedRequest) {
  SimServer sim(behaviour([](auto& b) { b.max_streams = 1000; }));
  asio::io_context io;
  h2::Connection connection(io.get_executor(), sim.client_config());
  std::vector<std::uint32_t> limits;
  run_until_done(io, [&]() -> asio::awaitable<void> {
    co_await connection.connect();
    limits.push_back(connection.max_concurrent_streams());
    auto unauthorised = sim.apns_request(device_token(1));
    remove_header(unauthorised, "authorization");
    EXPECT_EQ((co_await connection.async_request(unauthorised, asio::use_awaitable)).response.status, 403);
    limits.push_back(connection.max_concurrent_streams());
    EXPECT_EQ((co_await connection.async_request(sim.apns_request(device_token(2)), asio::use_awaitable)).response.status, 200);
    limits.push_back(connection.max_concurrent_streams());
  }());
  EXPECT_EQ(limits, (std::vector<std::uint32_t>{1, 1, 1000}));
}

TEST(SimServer, StreamRampCanBeTurnedOff) {
  SimServer sim(behaviour([](auto& b) { b.max_streams = 321; b.stream_ramp = false; }));
  std::uint32_t limit = 0;
  send_in_order(sim, {}, &limit);
  EXPECT_EQ(limit, 321u);
}

TEST(SimServer, DuplicatesAreCountedByTokenAndPayload) {
  SimServer sim;
  send_in_order(sim, {sim.apns_request(device_token(1)), sim.apns_request(device_token(1)),
                      sim.apns_request(device_token(1), R"({"aps":{"badge":2}})"),
                      sim.apns_request(device_token(2))});
  const auto stats = sim.stats();
  EXPECT_EQ(stats.unique, 3u);
  EXPECT_EQ(stats.duplicates, 1u);
}

TEST(SimServer, ControlEndpointsOverHttp2) {
  SimServer sim;
  const auto results = send_in_order(sim, {
      sim.apns_request(device_token(1)),
      control("POST", "/sim/config", R"({"force_status": 503})"),
      sim.apns_request(device_token(2)),
      control("POST", "/sim/config", R"({"force_status": null})"),
      sim.apns_request(device_token(3)),
      control("GET", "/sim/stats"),
      control("POST", "/sim/config", R"({"force_status": "soon"})"),
      control("GET", "/sim/config"),
      control("POST", "/sim/reset"),
      control("GET", "/sim/stats"),
  });
  for (const auto& result : results) ASSERT_FALSE(result.ec) << result.ec.message();
  EXPECT_EQ(results[0].response.status, 200);
  EXPECT_EQ(results[1].response.status, 200);
  EXPECT_EQ(results[2].response.status, 503);
  EXPECT_EQ(reason_of(results[2]), "ServiceUnavailable");
  EXPECT_EQ(results[4].response.status, 200);

  const auto stats = nlohmann::json::parse(results[5].response.body);
  EXPECT_EQ(stats["received"], 3);  // control requests are not counted
  EXPECT_EQ(stats["unique"], 2);
  EXPECT_EQ(stats["duplicates"], 0);
  EXPECT_EQ(stats["by_status"]["200"], 2);
  EXPECT_EQ(stats["by_status"]["503"], 1);
  EXPECT_EQ(stats["by_reason"]["ServiceUnavailable"], 1);
  EXPECT_EQ(stats["connections"], 1);

  EXPECT_EQ(results[6].response.status, 400);
  EXPECT_NE(results[6].response.body.find("force_status"), std::string::npos);
  EXPECT_TRUE(nlohmann::json::parse(results[7].response.body)["force_status"].is_null());
  const auto after_reset = nlohmann::json::parse(results[9].response.body);
  EXPECT_EQ(after_reset["received"], 0);
  EXPECT_EQ(after_reset["unique"], 0);
}

// One HTTP/1.1 request over TLS, as curl would send it; `alpn` false offers no ALPN at all.
http::response<http::string_body> http1(const SimServer& sim, http::verb method,
                                        const std::string& target, bool alpn,
                                        const std::string& body = "") {
  asio::io_context io;
  asio::ssl::context tls(asio::ssl::context::tls_client);
  tls.load_verify_file(sim.pki.cert_file);
  tls.set_verify_mode(asio::ssl::verify_peer);
  if (alpn) {
    static constexpr unsigned char protocols[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
    SSL_CTX_set_alpn_protos(tls.native_handle(), protocols, sizeof protocols);
  }
  asio::ssl::stream<asio::ip::tcp::socket> stream(io, tls);
  stream.lowest_layer().connect({asio::ip::make_address("127.0.0.1"), sim.server->port()});
  stream.handshake(asio::ssl::stream_base::client);
  http::request<http::string_body> request{method, target, 11};
  request.set(http::field::host, "localhost");
  request.body() = body;
  request.prepare_payload();
  http::write(stream, request);
  boost::beast::flat_buffer buffer;
  http::response<http::string_body> response;
  http::read(stream, buffer, response);
  return response;
}

TEST(SimServer, ControlEndpointsOverHttp11WithAndWithoutAlpn) {
  SimServer sim;
  for (const bool alpn : {true, false}) {
    const auto stats = http1(sim, http::verb::get, "/sim/stats", alpn);
    EXPECT_EQ(stats.result_int(), 200);
    EXPECT_TRUE(nlohmann::json::parse(stats.body()).contains("by_status"));

    const auto config = http1(sim, http::verb::post, "/sim/config", alpn, R"({"latency_ms": 1})");
    EXPECT_EQ(config.result_int(), 200);
    EXPECT_EQ(sim.server->behaviour().latency_ms(), 1u);

    // APNs itself is HTTP/2 only.
    const auto apns = http1(sim, http::verb::post, "/3/device/" + device_token(1), alpn,
                            testing::test_payload);
    EXPECT_EQ(apns.result_int(), 505);
  }
  EXPECT_EQ(sim.stats().unique, 0u);
}

std::string token_form(const testing::TestPki& pki) {
  return "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=" +
         testing::sign_oauth_assertion(pki, testing::unix_now());
}

TEST(SimServer, FcmSendWithAnAccessTokenFromTheOAuthEndpoint) {
  SimServer sim;
  asio::io_context io;
  h2::Connection connection(io.get_executor(), sim.client_config());
  const auto [token, sent, forged] =
      run_until_done(io, [&]() -> asio::awaitable<std::tuple<Result, Result, Result>> {
        co_await connection.connect();
        Request token_request = control("POST", "/token", token_form(sim.pki));
        token_request.headers.push_back({"content-type", "application/x-www-form-urlencoded"});
        Result token_result = co_await connection.async_request(token_request, asio::use_awaitable);
        const auto access_token =
            nlohmann::json::parse(token_result.response.body).value("access_token", "");
        Request send = control("POST", "/v1/projects/" + sim.pki.fcm_project_id + "/messages:send",
                               R"({"message":{"token":"fcm-token-1","data":{"k":"v"}}})");
        send.headers.push_back({"authorization", "Bearer " + access_token});
        Result sent_result = co_await connection.async_request(send, asio::use_awaitable);
        send.headers.back().value = "Bearer ya29.forged";
        Result forged_result = co_await connection.async_request(send, asio::use_awaitable);
        co_return std::tuple{std::move(token_result), std::move(sent_result), std::move(forged_result)};
      }());
  ASSERT_FALSE(token.ec) << token.ec.message();
  EXPECT_EQ(token.response.status, 200) << token.response.body;
  EXPECT_EQ(sent.response.status, 200) << sent.response.body;
  EXPECT_NE(sent.response.body.find("projects/demo-project/messages/"), std::string::npos);
  EXPECT_EQ(forged.response.status, 401);
  const auto stats = sim.stats();
  EXPECT_EQ(stats.received, 2u);  // token requests are not notifications
  EXPECT_EQ(stats.unique, 1u);
  EXPECT_EQ(stats.by_reason.at("UNAUTHENTICATED"), 1u);
}

TEST(SimServer, OAuthTokenEndpointOverHttp11) {
  SimServer sim;
  const auto response = http1(sim, http::verb::post, "/token", true, token_form(sim.pki));
  EXPECT_EQ(response.result_int(), 200) << response.body();
  EXPECT_TRUE(nlohmann::json::parse(response.body()).contains("access_token"));
}

TEST(SimServer, ServesFromSeveralThreads) {
  SimServer sim({}, /*threads=*/2);
  asio::io_context io;
  h2::PoolConfig config;
  config.connection = sim.client_config();
  config.connections = 4;
  h2::Pool pool(io.get_executor(), config);
  ASSERT_TRUE(pool.start());
  std::vector<Request> requests;
  for (unsigned long i = 0; i < 400; ++i) requests.push_back(sim.apns_request(device_token(i)));
  const auto results = run_until_done(io, testing::send_concurrently(pool, std::move(requests)));
  EXPECT_EQ(testing::count_outcomes(results), (std::map<std::string, int>{{"200", 400}}));
  EXPECT_EQ(sim.stats().unique, 400u);
}

TEST(SimServer, StartExplainsWhatIsWrong) {
  testing::TestPki pki;
  const auto start_error = [&](auto&& change) {
    ServerOptions options;
    options.cert_file = pki.cert_file;
    options.key_file = pki.key_file;
    options.apns_key_file = pki.apns_key_file;
    change(options);
    Server server(options);
    std::string error;
    EXPECT_FALSE(server.start(&error));
    return error;
  };
  EXPECT_NE(start_error([](auto& o) { o.cert_file = "/nonexistent.pem"; }).find("--cert /nonexistent.pem"),
            std::string::npos);
  EXPECT_NE(start_error([&](auto& o) { o.key_file = pki.client_key_file; })
                .find("--key " + pki.client_key_file),
            std::string::npos);
  EXPECT_NE(start_error([](auto& o) { o.apns_key_file.clear(); }).find("--apns-key is required"),
            std::string::npos);
  EXPECT_NE(start_error([&](auto& o) { o.apns_key_file = pki.cert_file; }).find("--apns-key"),
            std::string::npos);
  EXPECT_NE(start_error([](auto& o) { o.listen_host = "localhost"; }).find("not an IP address"),
            std::string::npos);
  EXPECT_NE(start_error([&](auto& o) { o.fcm_service_account_file = pki.cert_file; })
                .find("--fcm-service-account " + pki.cert_file + ": not a JSON object"),
            std::string::npos);

  SimServer running;
  EXPECT_NE(start_error([&](auto& o) {
              o.listen_port = running.server->port();
              o.threads = 1;
            }).find("--listen 127.0.0.1:"),
            std::string::npos);
}

}  // namespace
}  // namespace pushgw::sim
