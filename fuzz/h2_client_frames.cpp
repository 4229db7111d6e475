// Fuzzes the HTTP/2 client (h2::Connection, nghttp2 under it) with hostile server frames. A
// scripted TLS server on loopback completes a valid handshake (ALPN h2, its SETTINGS), waits
// until the client has sent the HEADERS of two requests (one with a body, one without), then
// writes the input as raw HTTP/2 frames and half-closes. Traps when
//   - a request gets no result, or more than one;
//   - a success carries a status outside 200-999, a body over the 1 MiB limit or more than
//     100 headers;
//   - requests are still counted in flight once the connection has closed.
// ASan/UBSan catch what goes wrong in the callbacks the frames drive.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <openssl/ssl.h>
#include <spdlog/spdlog.h>

#include "loopback.hpp"
#include "pushgw/h2/connection.hpp"
#include "pushgw/h2/tls.hpp"
#include "sim/tls_fixture.hpp"

namespace {

namespace asio = boost::asio;
namespace ssl = asio::ssl;
using namespace pushgw;
using tcp = asio::ip::tcp;

constexpr std::size_t kRequests = 2;
constexpr std::size_t kFrameHeaderBytes = 9;
constexpr std::string_view kClientPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
// SETTINGS (type 4) with MAX_CONCURRENT_STREAMS (3) = 100: the connection becomes ready.
constexpr std::string_view kServerSettings{"\x00\x00\x06\x04\x00\x00\x00\x00\x00" "\x00\x03\x00\x00\x00\x64", 15};

int select_h2(SSL*, const unsigned char** out, unsigned char* out_length, const unsigned char* in,
              unsigned in_length, void*) {
  static constexpr unsigned char kH2[] = {2, 'h', '2'};
  unsigned char* selected = nullptr;
  if (SSL_select_next_proto(&selected, out_length, kH2, sizeof kH2, in, in_length) != OPENSSL_NPN_NEGOTIATED) {
    return SSL_TLSEXT_ERR_ALERT_FATAL;
  }
  *out = selected;
  return SSL_TLSEXT_ERR_OK;
}

// A self-signed P-256 certificate, made once; the client does not verify it.
ssl::context& server_tls() {
  static ssl::context context = [] {
    ssl::context tls(ssl::context::tls_server);
    EVP_PKEY* key = EVP_EC_gen("P-256");
    const std::string cert = pushgw::testing::self_signed_cert_pem(key, "localhost", "IP:127.0.0.1");
    const std::string key_pem = pushgw::testing::private_key_pem(key);
    EVP_PKEY_free(key);
    tls.use_certificate_chain(asio::buffer(cert));
    tls.use_private_key(asio::buffer(key_pem), ssl::context::pem);
    SSL_CTX_set_alpn_select_cb(tls.native_handle(), &select_h2, nullptr);
    return tls;
  }();
  return context;
}

std::shared_ptr<ssl::context> client_tls(const h2::ConnectionConfig& config) {
  static const std::shared_ptr<ssl::context> context = h2::make_tls_context(config, nullptr);
  return context;
}

// How many HEADERS frames (type 1) the client's bytes hold so far, after the preface.
std::size_t headers_frames(std::string_view received) {
  if (received.size() < kClientPreface.size()) return 0;
  received.remove_prefix(kClientPreface.size());
  std::size_t count = 0;
  while (received.size() >= kFrameHeaderBytes) {
    const auto byte = [&](std::size_t i) { return static_cast<std::size_t>(static_cast<unsigned char>(received[i])); };
    const std::size_t length = byte(0) << 16 | byte(1) << 8 | byte(2);
    if (received.size() < kFrameHeaderBytes + length) break;
    if (byte(3) == 1) ++count;
    received.remove_prefix(kFrameHeaderBytes + length);
  }
  return count;
}

asio::awaitable<void> scripted_server(tcp::acceptor& acceptor, std::string_view frames) {
  const auto tuple = asio::as_tuple(asio::use_awaitable);
  ssl::stream<tcp::socket> stream(co_await acceptor.async_accept(asio::use_awaitable), server_tls());
  stream.next_layer().set_option(tcp::no_delay(true));  // as the client: no Nagle wait per exchange
  co_await stream.async_handshake(ssl::stream_base::server, asio::use_awaitable);
  co_await asio::async_write(stream, asio::buffer(kServerSettings.data(), kServerSettings.size()), asio::use_awaitable);
  std::string received;
  std::array<char, 4096> chunk;
  while (headers_frames(received) < kRequests) {
    const std::size_t n = co_await stream.async_read_some(asio::buffer(chunk), asio::use_awaitable);
    received.append(chunk.data(), n);
  }
  co_await asio::async_write(stream, asio::buffer(frames.data(), frames.size()), tuple);
  boost::system::error_code ignored;
  stream.next_layer().shutdown(tcp::socket::shutdown_send, ignored);  // no close_notify: the
  for (;;) {                                                          // client sees the end
    auto [ec, n] = co_await stream.async_read_some(asio::buffer(chunk), tuple);
    if (ec) break;
  }
  fuzz::close_abortively(stream.next_layer());
}

std::vector<h2::Request> requests() {
  h2::Request with_body;
  with_body.path = "/3/device/" + std::string(64, 'a');
  with_body.unique_path = true;
  with_body.headers = {{"apns-topic", "com.example.app"}, {"apns-id", "123e4567-e89b-12d3-a456-426614174000", true}};
  with_body.body = R"({"aps":{"alert":"hello"}})";
  h2::Request without_body;
  without_body.path = "/v1/projects/demo/messages:send";
  without_body.headers = {{"authorization", "Bearer token"}};
  return {with_body, without_body};
}

void check_result(const h2::Result& result) {
  if (result.ec) return;
  const auto& response = result.response;
  if (response.status < 200 || response.status > 999) __builtin_trap();
  if (response.body.size() > (1u << 20) || response.headers.size() > 100) __builtin_trap();
}

asio::awaitable<void> client(tcp::endpoint server, std::vector<std::size_t>& results) {
  h2::ConnectionConfig config;
  config.host = server.address().to_string();
  config.port = server.port();
  config.verify_peer = false;
  config.ping_interval = std::chrono::milliseconds(0);
  config.request_timeout = std::chrono::milliseconds(2000);
  h2::Connection connection(co_await asio::this_coro::executor, config, client_tls(config));
  if (co_await connection.connect()) __builtin_trap();  // the scripted start is valid
  const auto all = requests();
  for (std::size_t i = 0; i < all.size(); ++i) {
    connection.async_request(all[i], [&results, i](h2::Result result) {
      ++results[i];
      check_result(result);
    });
  }
  co_await connection.wait_closed();
  if (connection.in_flight() != 0) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  spdlog::set_level(spdlog::level::off);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view frames(reinterpret_cast<const char*>(data), size);
  asio::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  std::vector<std::size_t> results(kRequests, 0);
  asio::co_spawn(io, scripted_server(acceptor, frames), fuzz::fail_on_exception);
  asio::co_spawn(io, client(acceptor.local_endpoint(), results), fuzz::fail_on_exception);
  io.run();
  for (const std::size_t count : results) {
    if (count != 1) __builtin_trap();
  }
  return 0;
}
