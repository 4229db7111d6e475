#include "pushgw/h2/connection.hpp"

#include <gtest/gtest.h>

#include <array>
#include <memory>
#include <atomic>
#include <cstdio>
#include <map>
#include <string>
#include <thread>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <nghttp2/nghttp2.h>
#include <nlohmann/json.hpp>

#include "sim/sim_fixture.hpp"
#include "support/asio_wait.hpp"

namespace pushgw::h2 {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using testing::device_token;
using testing::outcome_token;
using test::eventually_async;
using test::run_until_done;
using testing::SimServer;
using testing::behaviour;
using testing::count_outcomes;
using testing::send_concurrently;
using boost::system::error_code;

TEST(H2Connection, SendsARequestWithAllHeadersAndGetsTheResponse) {
  SimServer sim;
  asio::io_context io;
  Connection connection(io.get_executor(), sim.client_config());
  EXPECT_EQ(connection.state(), ConnectionState::connecting);

  auto request = sim.apns_request(device_token(1));
  request.headers.push_back({"apns-id", "123e4567-e89b-12d3-a456-426614174000"});
  const Result result = run_until_done(io, [&]() -> asio::awaitable<Result> {
    const auto ec = co_await connection.connect();
    EXPECT_FALSE(ec) << ec.message() << ": " << connection.last_error_detail();
    co_return co_await connection.async_request(request, asio::use_awaitable);
  }());

  ASSERT_FALSE(result.ec) << result.ec.message();
  EXPECT_EQ(result.response.status, 200);
  EXPECT_TRUE(result.response.body.empty());
  ASSERT_NE(result.response.find_header("apns-id"), nullptr);
  EXPECT_EQ(*result.response.find_header("apns-id"), "123e4567-e89b-12d3-a456-426614174000");
  EXPECT_EQ(connection.state(), ConnectionState::ready);
  EXPECT_EQ(connection.in_flight(), 0u);
  EXPECT_EQ(sim.stats().unique, 1u);
}

TEST(H2Connection, SharedHeadersAndBodyGoWithEveryRequestAndUniqueValuesArriveIntact) {
  // One notification to many tokens: headers and body shared, path and apns-id per request
  // and kept out of HPACK's table (unique).
  SimServer sim;
  asio::io_context io;
  Connection connection(io.get_executor(), sim.client_config());
  auto model = sim.apns_request(device_token(0));
  auto shared_headers = std::make_shared<const std::vector<Header>>(model.headers);
  auto shared_body = std::make_shared<const std::string>(model.body);

  std::vector<Request> requests;
  std::vector<std::string> ids;
  for (unsigned long i = 0; i < 300; ++i) {
    char id[37];
    std::snprintf(id, sizeof id, "%08lx-0000-4000-8000-%012lx", i, i * 7919);
    ids.emplace_back(id);
    Request request;
    request.path = sim.apns_request(device_token(i)).path;
    request.unique_path = true;
    request.headers.push_back({"apns-id", id, true});
    request.shared_headers = shared_headers;
    request.shared_body = shared_body;
    requests.push_back(std::move(request));
  }
  const auto results = run_until_done(io, [&]() -> asio::awaitable<std::vector<Result>> {
    co_await connection.connect();
    co_return co_await send_concurrently(connection, std::move(requests));
  }());

  ASSERT_EQ(results.size(), 300u);
  for (std::size_t i = 0; i < results.size(); ++i) {
    ASSERT_FALSE(results[i].ec) << results[i].ec.message();
    EXPECT_EQ(results[i].response.status, 200) << results[i].response.body;
    ASSERT_NE(results[i].response.find_header("apns-id"), nullptr);
    EXPECT_EQ(*results[i].response.find_header("apns-id"), ids[i]);
  }
  EXPECT_EQ(sim.stats().unique, 300u);
  EXPECT_EQ(sim.stats().duplicates, 0u);
}

TEST(H2Connection, ErrorStatusesAreResponsesNotErrors) {
  SimServer sim;
  asio::io_context io;
  Connection connection(io.get_executor(), sim.client_config());
  const Result result = run_until_done(io, [&]() -> asio::awaitable<Result> {
    co_await connection.connect();
    co_return co_await connection.async_request(sim.apns_request(outcome_token("0410")), asio::use_awaitable);
  }());
  ASSERT_FALSE(result.ec) << result.ec.message();
  EXPECT_EQ(result.response.status, 410);
  const auto body = nlohmann::json::parse(result.response.body);
  EXPECT_EQ(body["reason"], "Unregistered");
  EXPECT_TRUE(body["timestamp"].is_number_integer());
}

TEST(H2Connection, WaitsForStreamSlotsWhileTheServerAllowsOneThenUsesTheRaisedLimit) {
  SimServer sim(behaviour([](auto& b) { b.max_streams = 1000; b.stream_ramp = true; }));
  asio::io_context io;
  Connection connection(io.get_executor(), sim.client_config());

  std::uint32_t limit_at_connect = 0;
  std::vector<Request> requests;
  for (unsigned long i = 0; i < 2000; ++i) requests.push_back(sim.apns_request(device_token(i)));
  const auto results = run_until_done(io, [&]() -> asio::awaitable<std::vector<Result>> {
    co_await connection.connect();
    limit_at_connect = connection.max_concurrent_streams();
    co_return co_await send_concurrently(connection, std::move(requests));
  }());

  EXPECT_EQ(limit_at_connect, 1u);
  EXPECT_EQ(connection.max_concurrent_streams(), 1000u);
  EXPECT_EQ(count_outcomes(results), (std::map<std::string, int>{{"200", 2000}}));
  const auto stats = sim.stats();
  EXPECT_EQ(stats.unique, 2000u);
  EXPECT_EQ(stats.duplicates, 0u);
  // Requests waited for slots instead of being refused, then ran concurrently.
  EXPECT_GT(stats.max_concurrent_streams_seen, 1u);
  EXPECT_LE(stats.max_concurrent_streams_seen, 1000u);
}

TEST(H2Connection, AStreamThatIsNeverAnsweredTimesOutAndFreesItsSlot) {
  SimServer sim(behaviour([](auto& b) { b.stream_ramp = false; b.max_streams = 1; }));
  asio::io_context io;
  auto config = sim.client_config();
  config.request_timeout = 300ms;
  Connection connection(io.get_executor(), config);

  const auto [silent, after] = run_until_done(io, [&]() -> asio::awaitable<std::pair<Result, Result>> {
    co_await connection.connect();
    Result first = co_await connection.async_request(sim.apns_request(outcome_token("0408")), asio::use_awaitable);
    // With one stream allowed, this only works if the timed-out stream was reset.
    Result second = co_await connection.async_request(sim.apns_request(device_token(7)), asio::use_awaitable);
    co_return std::pair{std::move(first), std::move(second)};
  }());
  EXPECT_EQ(silent.ec, error::timeout);
  ASSERT_FALSE(after.ec) << after.ec.message();
  EXPECT_EQ(after.response.status, 200);
  EXPECT_EQ(connection.state(), ConnectionState::ready);
}

TEST(H2Connection, SubmittedRequestsGetOneResultEachAndNeverFromInsideSubmit) {
  // More requests than the server's first stream limit: some wait for slots.
  SimServer sim(behaviour([](auto& b) { b.max_streams = 50; b.stream_ramp = false; }));
  asio::io_context io;
  Connection connection(io.get_executor(), sim.client_config());
  std::vector<Request> requests;
  for (unsigned long i = 0; i < 300; ++i) requests.push_back(sim.apns_request(device_token(i)));
  requests.push_back(sim.apns_request(outcome_token("0410")));
  requests.push_back(Request{});  // no path: refused as bad_request

  const auto record = run_until_done(io, [&]() -> asio::awaitable<testing::SubmitRecord> {
    co_await connection.connect();
    co_return co_await testing::submit_all(connection, std::move(requests));
  }());
  EXPECT_EQ(record.calls_inside_submit, 0);
  EXPECT_EQ(record.calls, std::vector<int>(302, 1));
  EXPECT_EQ(count_outcomes(record.results),
            (std::map<std::string, int>{{"200", 300}, {"410", 1}, {error_code(error::bad_request).message(), 1}}));
  EXPECT_EQ(sim.stats().unique, 300u);  // the accepted ones
  EXPECT_LE(sim.stats().max_concurrent_streams_seen, 50u);
  EXPECT_EQ(connection.in_flight(), 0u);
}

TEST(H2Connection, AShorterTimeoutSubmittedLaterExpiresFirst) {
  SimServer sim;
  asio::io_context io;
  Connection connection(io.get_executor(), sim.client_config());
  std::vector<std::string> order;
  run_until_done(io, [&]() -> asio::awaitable<void> {
    co_await connection.connect();
    auto slow = sim.apns_request(outcome_token("0408"));  // never answered
    slow.timeout = 1500ms;
    auto quick = sim.apns_request(outcome_token("0408"));
    quick.timeout = 100ms;
    connection.async_request(slow, [&](Result r) { order.push_back("slow " + r.ec.message()); });
    connection.async_request(quick, [&](Result r) { order.push_back("quick " + r.ec.message()); });
    EXPECT_TRUE(co_await eventually_async([&] { return order.size() >= 2; }));
  }());
  const std::string timeout = error_code(error::timeout).message();
  EXPECT_EQ(order, (std::vector<std::string>{"quick " + timeout, "slow " + timeout}));
  EXPECT_EQ(connection.in_flight(), 0u);
  EXPECT_EQ(connection.state(), ConnectionState::ready);
}

TEST(H2Connection, GoawayFailsStreamsAboveLastStreamIdAsNotProcessedAndDrains) {
  SimServer sim(behaviour([](auto& b) {
    b.stream_ramp = false;
    b.goaway_after = 10;
    b.latency_ms = 100;  // all requests are in flight when the GOAWAY comes
  }));
  asio::io_context io;
  Connection connection(io.get_executor(), sim.client_config());
  std::vector<Request> requests;
  for (unsigned long i = 0; i < 50; ++i) requests.push_back(sim.apns_request(device_token(i)));
  const auto results = run_until_done(io, [&]() -> asio::awaitable<std::vector<Result>> {
    co_await connection.connect();
    auto all = co_await send_concurrently(connection, std::move(requests));
    co_await connection.wait_closed();
    co_return all;
  }());

  int ok = 0, not_processed = 0;
  for (const auto& result : results) {
    if (!result.ec && result.response.status == 200) ++ok;
    else if (result.ec == error::not_processed) ++not_processed;
    else ADD_FAILURE() << "unexpected " << result.ec.message() << " " << result.response.status;
  }
  EXPECT_GE(ok, 10);
  EXPECT_EQ(ok + not_processed, 50);
  EXPECT_GT(not_processed, 0);
  // The server delivered exactly what the client saw succeed.
  EXPECT_EQ(sim.stats().unique, static_cast<std::uint64_t>(ok));
  EXPECT_EQ(connection.state(), ConnectionState::closed);
  EXPECT_NE(connection.last_error_detail().find("GOAWAY"), std::string::npos)
      << connection.last_error_detail();
}

TEST(H2Connection, ADroppedConnectionFailsInFlightRequestsWithConnectionLost) {
  SimServer sim(behaviour([](auto& b) {
    b.stream_ramp = false;
    b.drop_after = 5;
    b.latency_ms = 300;
  }));
  asio::io_context io;
  Connection connection(io.get_executor(), sim.client_config());
  std::vector<Request> requests;
  for (unsigned long i = 0; i < 20; ++i) requests.push_back(sim.apns_request(device_token(i)));
  const auto results = run_until_done(io, [&]() -> asio::awaitable<std::vector<Result>> {
    co_await connection.connect();
    co_return co_await send_concurrently(connection, std::move(requests));
  }());

  int lost = 0;
  for (const auto& result : results) {
    if (result.ec == error::connection_lost) ++lost;
    else EXPECT_EQ(result.ec, error::not_processed) << result.ec.message();
  }
  EXPECT_GE(lost, 5);
  EXPECT_EQ(connection.state(), ConnectionState::closed);
  EXPECT_EQ(sim.stats().connections_dropped, 1u);
}

// A TLS server on its own thread. Unless it is an HTTP/2 server (`Http2Server` below), it is
// not a working one: it selects ALPN h2 (or nothing), maybe sends an empty SETTINGS frame,
// then ignores everything the client sends.
class SilentTlsServer {
 public:
  SilentTlsServer(const testing::TestPki& pki, bool select_h2, bool send_settings)
      : select_h2_(select_h2), send_settings_(send_settings) {
    tls_.use_certificate_chain_file(pki.cert_file);
    tls_.use_private_key_file(pki.key_file, asio::ssl::context::pem);
    SSL_CTX_set_alpn_select_cb(tls_.native_handle(), &select_alpn, this);
    acceptor_.open(asio::ip::tcp::v4());
    acceptor_.bind({asio::ip::make_address("127.0.0.1"), 0});
    acceptor_.listen();
    asio::co_spawn(io_, serve(), asio::detached);
    thread_ = std::thread([this] { io_.run(); });
  }
  virtual ~SilentTlsServer() { stop(); }
  // Stops the server thread (a derived server calls it first: its sessions use its members).
  void stop() {
    io_.stop();
    if (thread_.joinable()) thread_.join();
  }
  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }

 protected:
  using TlsStream = asio::ssl::stream<asio::ip::tcp::socket>;
  // What the server does with a connection once TLS is up.
  virtual asio::awaitable<void> session(TlsStream& stream) {
    if (send_settings_) {
      static constexpr unsigned char settings[] = {0, 0, 0, 4, 0, 0, 0, 0, 0};
      co_await asio::async_write(stream, asio::buffer(settings), asio::as_tuple(asio::use_awaitable));
    }
    char buffer[4096];
    for (;;) {
      auto [read_ec, n] = co_await stream.async_read_some(asio::buffer(buffer),
                                                          asio::as_tuple(asio::use_awaitable));
      if (read_ec) co_return;
    }
  }

 private:
  static int select_alpn(SSL*, const unsigned char** out, unsigned char* out_length,
                         const unsigned char*, unsigned, void* arg) {
    if (!static_cast<SilentTlsServer*>(arg)->select_h2_) return SSL_TLSEXT_ERR_NOACK;
    static constexpr unsigned char h2[] = {'h', '2'};
    *out = h2;
    *out_length = 2;
    return SSL_TLSEXT_ERR_OK;
  }

  asio::awaitable<void> serve() {
    for (;;) {
      auto socket = co_await acceptor_.async_accept(asio::use_awaitable);
      asio::co_spawn(io_, hold(std::move(socket)), asio::detached);
    }
  }

  asio::awaitable<void> hold(asio::ip::tcp::socket socket) {
    TlsStream stream(std::move(socket), tls_);
    auto [ec] = co_await stream.async_handshake(asio::ssl::stream_base::server,
                                                asio::as_tuple(asio::use_awaitable));
    if (ec) co_return;
    ++connections_;
    co_await session(stream);
  }

  bool select_h2_;
  bool send_settings_;

 protected:
  std::atomic<int> connections_{0};  // TLS handshakes completed

 private:
  asio::io_context io_;
  asio::ssl::context tls_{asio::ssl::context::tls_server};
  asio::ip::tcp::acceptor acceptor_{io_};
  std::thread thread_;
};

ConnectionConfig config_for(const testing::TestPki& pki, std::uint16_t port) {
  ConnectionConfig config;
  config.host = "127.0.0.1";
  config.port = port;
  config.ca_file = pki.cert_file;
  config.connect_timeout = 5s;
  return config;
}

// A minimal HTTP/2 server (an nghttp2 server session): answers every request 200 and ACKs
// PINGs (nghttp2 does that by itself), counting the PINGs it received and the ACKs it sent,
// which pushgw-sim does not expose.
class Http2Server : public SilentTlsServer {
 public:
  explicit Http2Server(const testing::TestPki& pki) : SilentTlsServer(pki, true, true) {}
  ~Http2Server() override { stop(); }

  int connections() const { return connections_.load(); }
  int pings_received() const { return pings_received_.load(); }
  int ping_acks_sent() const { return ping_acks_sent_.load(); }

 protected:
  asio::awaitable<void> session(TlsStream& stream) override {
    nghttp2_session_callbacks* callbacks = nullptr;
    nghttp2_session_callbacks_new(&callbacks);
    nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks, &on_frame_recv);
    nghttp2_session_callbacks_set_on_frame_send_callback(callbacks, &on_frame_send);
    nghttp2_session* raw = nullptr;
    nghttp2_session_server_new(&raw, callbacks, this);
    nghttp2_session_callbacks_del(callbacks);
    // Owned, not deleted at the end: stop() can leave this coroutine suspended, and its frame
    // is then destroyed with the io_context, never reaching a line after the loop.
    const std::unique_ptr<nghttp2_session, decltype(&nghttp2_session_del)> session_owner(raw, &nghttp2_session_del);
    nghttp2_session* h2 = raw;
    nghttp2_submit_settings(h2, NGHTTP2_FLAG_NONE, nullptr, 0);
    std::array<std::uint8_t, 16384> buffer{};
    for (;;) {
      std::string out;
      const std::uint8_t* data = nullptr;
      for (ssize_t n; (n = nghttp2_session_mem_send(h2, &data)) > 0;) {
        out.append(reinterpret_cast<const char*>(data), static_cast<std::size_t>(n));
      }
      if (!out.empty()) {
        auto [write_ec, written] = co_await asio::async_write(stream, asio::buffer(out), asio::as_tuple(asio::use_awaitable));
        if (write_ec) break;
      }
      auto [read_ec, n] = co_await stream.async_read_some(asio::buffer(buffer), asio::as_tuple(asio::use_awaitable));
      if (read_ec || nghttp2_session_mem_recv(h2, buffer.data(), n) < 0) break;
    }
  }

 private:
  static int on_frame_recv(nghttp2_session* h2, const nghttp2_frame* frame, void* user) {
    auto* self = static_cast<Http2Server*>(user);
    if (frame->hd.type == NGHTTP2_PING && !(frame->hd.flags & NGHTTP2_FLAG_ACK)) ++self->pings_received_;
    const bool request_done = (frame->hd.type == NGHTTP2_HEADERS || frame->hd.type == NGHTTP2_DATA) &&
                              (frame->hd.flags & NGHTTP2_FLAG_END_STREAM);
    if (request_done) {
      static constexpr char name[] = ":status";
      static constexpr char value[] = "200";
      nghttp2_nv status{reinterpret_cast<std::uint8_t*>(const_cast<char*>(name)),
                        reinterpret_cast<std::uint8_t*>(const_cast<char*>(value)), sizeof name - 1, sizeof value - 1,
                        NGHTTP2_NV_FLAG_NONE};
      nghttp2_submit_response(h2, frame->hd.stream_id, &status, 1, nullptr);
    }
    return 0;
  }
  static int on_frame_send(nghttp2_session*, const nghttp2_frame* frame, void* user) {
    if (frame->hd.type == NGHTTP2_PING && (frame->hd.flags & NGHTTP2_FLAG_ACK)) {
      ++static_cast<Http2Server*>(user)->ping_acks_sent_;
    }
    return 0;
  }

  std::atomic<int> pings_received_{0};
  std::atomic<int> ping_acks_sent_{0};
};

TEST(H2Connection, IdlePingsAreAnsweredAndKeepTheConnectionReady) {
  testing::TestPki pki;
  Http2Server server(pki);
  asio::io_context io;
  auto config = config_for(pki, server.port());
  config.ping_interval = 50ms;
  config.ping_timeout = 200ms;
  Connection connection(io.get_executor(), config);
  const Result result = run_until_done(io, [&]() -> asio::awaitable<Result> {
    const auto ec = co_await connection.connect();
    EXPECT_FALSE(ec) << ec.message() << ": " << connection.last_error_detail();
    // The client sends its next PING only after the previous one's ACK arrived within
    // ping_timeout (else it closes): a third PING on this connection proves two ACKs were
    // taken as answers.
    co_await eventually_async([&] { return server.pings_received() >= 3 || connection.state() == ConnectionState::closed; });
    EXPECT_GE(server.pings_received(), 3) << connection.last_error_detail();
    Request request;
    request.method = "GET";
    request.path = "/";
    co_return co_await connection.async_request(std::move(request), asio::use_awaitable);
  }());
  EXPECT_GE(server.ping_acks_sent(), 2);
  EXPECT_EQ(server.connections(), 1);
  EXPECT_FALSE(result.ec) << result.ec.message() << ": " << connection.last_error_detail();
  EXPECT_EQ(result.response.status, 200);
  EXPECT_EQ(connection.state(), ConnectionState::ready);
}

TEST(H2Connection, MissingPingAckClosesTheConnection) {
  testing::TestPki pki;
  SilentTlsServer server(pki, /*select_h2=*/true, /*send_settings=*/true);
  asio::io_context io;
  auto config = config_for(pki, server.port());
  config.ping_interval = 50ms;
  config.ping_timeout = 100ms;
  Connection connection(io.get_executor(), config);
  run_until_done(io, [&]() -> asio::awaitable<void> {
    const auto ec = co_await connection.connect();
    EXPECT_FALSE(ec) << ec.message();
    co_await connection.wait_closed();
  }());
  EXPECT_NE(connection.last_error_detail().find("PING"), std::string::npos)
      << connection.last_error_detail();
}

TEST(H2Connection, FailsClearlyWhenTheServerDoesNotSelectH2) {
  testing::TestPki pki;
  SilentTlsServer server(pki, /*select_h2=*/false, /*send_settings=*/false);
  asio::io_context io;
  Connection connection(io.get_executor(), config_for(pki, server.port()));
  const auto ec = run_until_done(io, connection.connect());
  EXPECT_EQ(ec, error::alpn_not_h2);
  EXPECT_NE(connection.last_error_detail().find("ALPN"), std::string::npos)
      << connection.last_error_detail();
  EXPECT_EQ(connection.state(), ConnectionState::closed);
}

TEST(H2Connection, ConnectTimesOutWhenTheServerNeverSendsSettings) {
  testing::TestPki pki;
  SilentTlsServer server(pki, /*select_h2=*/true, /*send_settings=*/false);
  asio::io_context io;
  auto config = config_for(pki, server.port());
  config.connect_timeout = 300ms;
  Connection connection(io.get_executor(), config);
  EXPECT_EQ(run_until_done(io, connection.connect()), error::timeout);
  EXPECT_NE(connection.last_error_detail().find("timed out"), std::string::npos)
      << connection.last_error_detail();
}

TEST(H2Connection, FailsTlsVerificationAgainstTheWrongCa) {
  SimServer sim;
  asio::io_context io;
  auto config = sim.client_config();
  config.ca_file = sim.pki.other_cert_file;
  Connection connection(io.get_executor(), config);
  EXPECT_EQ(run_until_done(io, connection.connect()), error::tls_failed);
  EXPECT_NE(connection.last_error_detail().find("TLS handshake"), std::string::npos)
      << connection.last_error_detail();
}

TEST(H2Connection, FailsTlsVerificationWhenTheCertificateNamesAnotherHost) {
  testing::TestPki pki;
  sim::ServerOptions options;
  options.cert_file = pki.other_cert_file;  // trusted below, but names other.test only
  options.key_file = pki.other_key_file;
  options.behaviour.no_auth = true;
  sim::Server server(options);
  std::string error;
  ASSERT_TRUE(server.start(&error)) << error;

  asio::io_context io;
  auto config = config_for(pki, server.port());
  config.ca_file = pki.other_cert_file;
  Connection connection(io.get_executor(), config);
  EXPECT_EQ(run_until_done(io, connection.connect()), error::tls_failed);

  // The same server passes once verification is off.
  config.verify_peer = false;
  Connection unverified(io.get_executor(), config);
  EXPECT_FALSE(run_until_done(io, unverified.connect()));
}

TEST(H2Connection, ConnectFailsOnAClosedPort) {
  asio::io_context io;
  std::uint16_t closed_port = 0;
  {
    asio::ip::tcp::acceptor probe(io, {asio::ip::make_address("127.0.0.1"), 0});
    closed_port = probe.local_endpoint().port();
  }
  ConnectionConfig config;
  config.host = "127.0.0.1";
  config.port = closed_port;
  Connection connection(io.get_executor(), config);
  EXPECT_EQ(run_until_done(io, connection.connect()), error::connect_failed);
  EXPECT_NE(connection.last_error_detail().find("connect 127.0.0.1:"), std::string::npos)
      << connection.last_error_detail();
}

TEST(H2Connection, RejectsRequestsThatCannotBeSent) {
  SimServer sim;
  asio::io_context io;
  Connection connection(io.get_executor(), sim.client_config());
  run_until_done(io, [&]() -> asio::awaitable<void> {
    co_await connection.connect();
    auto upper = sim.apns_request(device_token(1));
    upper.headers.push_back({"Apns-Topic", "x"});
    EXPECT_EQ((co_await connection.async_request(upper, asio::use_awaitable)).ec, error::bad_request);
    auto newline = sim.apns_request(device_token(1));
    newline.headers.push_back({"x-note", "a\r\nb"});
    EXPECT_EQ((co_await connection.async_request(newline, asio::use_awaitable)).ec, error::bad_request);
    auto no_path = sim.apns_request(device_token(1));
    no_path.path = "3/device";
    EXPECT_EQ((co_await connection.async_request(no_path, asio::use_awaitable)).ec, error::bad_request);
  }());
  EXPECT_EQ(sim.stats().received, 0u);
}

TEST(H2Connection, ShutdownLetsInFlightRequestsFinishThenCloses) {
  SimServer sim(behaviour([](auto& b) { b.latency_ms = 200; b.stream_ramp = false; }));
  asio::io_context io;
  Connection connection(io.get_executor(), sim.client_config());
  Result in_flight, refused;
  bool in_flight_done = false;
  run_until_done(io, [&]() -> asio::awaitable<void> {
    co_await connection.connect();
    asio::co_spawn(
        co_await asio::this_coro::executor,
        [&]() -> asio::awaitable<void> {
          in_flight = co_await connection.async_request(sim.apns_request(device_token(1)), asio::use_awaitable);
          in_flight_done = true;
        },
        asio::detached);
    // The server has the whole request (it answers after its 200 ms latency).
    EXPECT_TRUE(co_await eventually_async([&] { return sim.stats().received == 1; }));
    connection.shutdown();
    EXPECT_EQ(connection.state(), ConnectionState::draining);
    refused = co_await connection.async_request(sim.apns_request(device_token(2)), asio::use_awaitable);
    co_await connection.wait_closed();
    EXPECT_TRUE(co_await eventually_async([&] { return in_flight_done; }));
  }());
  ASSERT_FALSE(in_flight.ec) << in_flight.ec.message();
  EXPECT_EQ(in_flight.response.status, 200);
  EXPECT_EQ(refused.ec, error::not_processed);
  EXPECT_EQ(connection.state(), ConnectionState::closed);
}

}  // namespace
}  // namespace pushgw::h2
