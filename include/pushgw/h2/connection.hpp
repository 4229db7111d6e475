#pragma once
// One HTTP/2 client connection: TLS (ALPN "h2") over TCP, and an nghttp2 client session that
// does no I/O itself (as in nghttp2's own programs): a reader coroutine feeds it with
// nghttp2_session_mem_recv, a writer coroutine drains nghttp2_session_mem_send into a bounded
// buffer and writes it out.
//
// Requests beyond the server's SETTINGS_MAX_CONCURRENT_STREAMS wait for a free stream slot
// (APNs advertises 1 until the first authorised request, then ~1000). After a GOAWAY the
// connection drains: streams the server will not process fail with error::not_processed,
// the others complete, then it closes.
//
// Threading: a Connection lives on one executor (use a strand when io_context::run() is called
// from several threads). async_request() may be called from any executor; it hops over and back.
// The other members must be called on the connection's executor, except the const observers,
// which may be called from any thread.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/system/error_code.hpp>
#include <openssl/types.h>

#include "pushgw/common/completion.hpp"
#include "pushgw/h2/error.hpp"

namespace boost::asio::ssl {
class context;
}

namespace pushgw::h2 {

using std::chrono::milliseconds;

struct ConnectionConfig {
  std::string host;                       // also the TLS SNI name and :authority
  std::uint16_t port = 443;
  std::string ca_file;                    // PEM CA bundle; empty = the system store
  // A client certificate already loaded (apns::ClientCertificate::use_in): installs
  // certificate, key and chain into the context. May throw std::exception with the reason,
  // which make_tls_context reports. Empty = no client certificate.
  std::function<void(SSL_CTX*)> install_client_certificate;
  bool verify_peer = true;                // verify the chain and that it names `host`
  milliseconds connect_timeout{10000};    // TCP + TLS + the server's first SETTINGS
  milliseconds request_timeout{10000};    // from sending a request to its complete response
  milliseconds ping_interval{60000};      // PING after this long with nothing received; 0 = off
  milliseconds ping_timeout{10000};       // no PING ACK within this → the connection is closed
  std::size_t write_buffer_limit = 64 * 1024;  // bytes taken from nghttp2 per socket write
  std::uint32_t stream_window = 1 << 20;       // our SETTINGS_INITIAL_WINDOW_SIZE
  std::uint32_t connection_window = 16 << 20;  // our connection-level receive window
};

struct Header {
  std::string name;   // lower case, as HTTP/2 requires
  std::string value;
  // A value (almost) never sent twice, like apns-id: kept out of HPACK's dynamic table, where
  // it would only push out the headers that do repeat and cost both ends an insertion.
  bool unique = false;
  bool operator==(const Header&) const = default;
};

struct Request {
  std::string method = "POST";
  std::string path;                       // e.g. "/3/device/<token>"
  bool unique_path = false;               // as Header::unique (APNs: one path per token)
  std::vector<Header> headers;            // not the pseudo-headers; :authority comes from config
  std::string body;
  milliseconds timeout{0};                // 0 = ConnectionConfig::request_timeout
  // What many requests share (one notification sent to many tokens): sent before `headers`,
  // and instead of `body` when set. Shared, not copied, per request.
  std::shared_ptr<const std::vector<Header>> shared_headers;
  std::shared_ptr<const std::string> shared_body;
};

struct Response {
  int status = 0;
  std::vector<Header> headers;
  std::string body;
  // The first header with this (lower-case) name, or nullptr.
  const std::string* find_header(std::string_view name) const;
};

struct Result {
  boost::system::error_code ec;           // category error_category() unless a system error
  Response response;                      // meaningful only when !ec (any HTTP status)
};

// Receives a request's result, exactly once, on the connection's (pool's) executor. Must not
// throw. It is called from a posted function, never from inside async_request() or nghttp2, so
// it may send again.
using ResultHandler = std::function<void(Result)>;

enum class ConnectionState {
  connecting,   // TCP/TLS/SETTINGS in progress (or connect() not called yet)
  ready,        // takes requests
  draining,     // GOAWAY received or shutdown(): no new requests, in-flight ones finish
  closed,       // socket closed; every request has completed
};
std::string_view to_string(ConnectionState state);

class Connection {
 public:
  // `tls` may be null: a context is then built from `config` at connect().
  Connection(boost::asio::any_io_executor executor, ConnectionConfig config,
             std::shared_ptr<boost::asio::ssl::context> tls = nullptr);
  ~Connection();  // closes the connection (as close())
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Connects: resolve, TCP (TCP_NODELAY), TLS with SNI, ALPN "h2", our SETTINGS, and waits
  // for the server's SETTINGS. Returns connect_failed / tls_failed / alpn_not_h2 / protocol /
  // timeout; last_error_detail() then says more. Call once.
  boost::asio::awaitable<boost::system::error_code> connect();

  // Sends one request; completes with its complete response or an error, never an exception
  // for network or protocol errors. The one request operation, an Asio initiating function:
  // `completion` is a plain callback (the pool's hot path: no coroutine frame),
  // asio::use_awaitable, or any other completion token. Waits for a stream slot while the
  // server's limit is reached. `request` is not referenced after async_request returns (a
  // caller on another executor hops over with a copy). A plain callback runs on the
  // connection's executor, from a posted function, never inside async_request or nghttp2, so
  // it may send again.
  template <class CompletionToken>
  auto async_request(const Request& request, CompletionToken&& completion) {
    return boost::asio::async_initiate<CompletionToken, void(Result)>(
        [this](auto handler, const Request* request) {
          start_request(*request, common::report_to<Result>(std::move(handler), executor()));
        },
        completion, &request);
  }

  // Graceful: no new requests (they fail with not_processed), GOAWAY to the server, close
  // when in-flight streams are done.
  void shutdown();
  // Immediate: sent requests fail with connection_lost, queued ones with not_processed.
  void close();

  // Completes once the state is draining or closed (at once if it already is).
  boost::asio::awaitable<void> wait_unusable();
  // Completes once the state is closed.
  boost::asio::awaitable<void> wait_closed();

  ConnectionState state() const;
  std::size_t in_flight() const;                 // requests accepted and not yet completed
  std::uint32_t max_concurrent_streams() const;  // the server's current limit
  std::string last_error_detail() const;         // why the last connect/close happened

  const ConnectionConfig& config() const;
  const boost::asio::any_io_executor& executor() const;

 private:
  void start_request(const Request& request, ResultHandler done);

  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace pushgw::h2
