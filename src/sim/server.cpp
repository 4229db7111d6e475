#include "pushgw/sim/server.hpp"

#include <array>
#include <charconv>
#include <cstring>
#include <optional>
#include <thread>
#include <vector>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nghttp2/nghttp2.h>
#include <openssl/ssl.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "pushgw/sim/apns.hpp"
#include "pushgw/sim/broadcast.hpp"
#include "pushgw/sim/fcm.hpp"
#include "pushgw/sim/oauth.hpp"
#include "pushgw/sim/provider_token.hpp"
#include "pushgw/sim/request_log.hpp"
#include "pushgw/sim/router.hpp"

namespace pushgw::sim {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;
using TlsStream = asio::ssl::stream<tcp::socket>;

namespace {

constexpr std::size_t max_request_body = 64 * 1024;   // stored; larger bodies are still counted
constexpr std::size_t write_limit = 128 * 1024;      // bytes taken from nghttp2 per write
constexpr std::uint32_t stream_window = 1 << 20;
constexpr std::int32_t connection_window = 64 << 20;
constexpr std::chrono::seconds handshake_timeout{10};
constexpr std::chrono::seconds linger_time{2};

// Everything the connections of all threads share. Read-only after start(), except the
// thread-safe Stats and Behaviour.
struct Shared {
  explicit Shared(ServerOptions opts) : options(std::move(opts)), behaviour(options.behaviour) {}
  ServerOptions options;
  Stats stats;
  RequestLog requests;  // filled while behaviour.record_requests()
  Behaviour behaviour;
  std::unique_ptr<ProviderTokenVerifier> verifier;
  std::unique_ptr<apns::Service> apns;
  std::unique_ptr<broadcast::Service> broadcast;  // Live Activity channels and broadcasts
  std::unique_ptr<oauth::TokenIssuer> oauth;  // with FCM, when a service account is given
  std::unique_ptr<fcm::Service> fcm;
  Router router;
  asio::ssl::context tls{asio::ssl::context::tls_server};
};

// Picks h2, else http/1.1; a client offering neither continues without ALPN (HTTP/1.1).
int select_alpn(SSL*, const unsigned char** out, unsigned char* out_length, const unsigned char* in,
                unsigned in_length, void*) {
  const unsigned char* http11 = nullptr;
  for (unsigned i = 0; i < in_length;) {
    const unsigned length = in[i];
    const unsigned char* name = in + i + 1;
    if (i + 1 + length > in_length) break;
    if (length == 2 && std::memcmp(name, "h2", 2) == 0) {
      *out = name;
      *out_length = 2;
      return SSL_TLSEXT_ERR_OK;
    }
    if (length == 8 && std::memcmp(name, "http/1.1", 8) == 0) http11 = name;
    i += 1 + length;
  }
  if (http11) {
    *out = http11;
    *out_length = 8;
    return SSL_TLSEXT_ERR_OK;
  }
  return SSL_TLSEXT_ERR_NOACK;
}

nghttp2_nv make_nv(std::string_view name, std::string_view value, uint8_t flags = NGHTTP2_NV_FLAG_NONE) {
  return nghttp2_nv{reinterpret_cast<uint8_t*>(const_cast<char*>(name.data())),
                    reinterpret_cast<uint8_t*>(const_cast<char*>(value.data())), name.size(),
                    value.size(), flags};
}

// ---------------------------------------------------------------------------------------
// HTTP/2: an nghttp2 server session fed by a reader coroutine and drained by a writer one.
// ---------------------------------------------------------------------------------------
class H2Session : public std::enable_shared_from_this<H2Session> {
 public:
  H2Session(Shared& shared, TlsStream stream)
      : shared_(shared),
        stream_(std::move(stream)),
        write_wake_(stream_.get_executor(), std::chrono::steady_clock::time_point::max()) {}

  ~H2Session() {
    if (session_) nghttp2_session_del(session_);
  }

  asio::awaitable<void> run() {
    auto keep = shared_from_this();
    if (!create_session()) co_return;
    asio::co_spawn(stream_.get_executor(), writer(), asio::detached);
    co_await reader();
  }

 private:
  struct Stream {
    int32_t id = 0;
    std::size_t live_index = 0;  // position in live_streams_
    bool closed = true;
    bool counted = true;     // service traffic (counts in /sim/stats)
    Request request;
    Response response;
    std::size_t body_offset = 0;
    std::array<char, 4> status_text{};
    std::array<char, 20> length_text{};
    std::optional<asio::steady_timer> delay;  // --latency-ms
  };

  Stream* acquire_stream(int32_t id) {
    std::unique_ptr<Stream> stream;
    if (free_streams_.empty()) {
      stream = std::make_unique<Stream>();
    } else {
      stream = std::move(free_streams_.back());
      free_streams_.pop_back();
    }
    stream->id = id;
    stream->closed = false;
    stream->counted = true;
    stream->request.clear();
    stream->response.clear();
    stream->body_offset = 0;
    Stream* raw = stream.get();
    raw->live_index = live_streams_.size();
    live_streams_.push_back(std::move(stream));
    return raw;
  }

  void release_stream(Stream* stream) {
    stream->closed = true;
    if (stream->delay) stream->delay->cancel();
    // Swap-remove: the last live stream takes this one's place.
    auto& slot = live_streams_[stream->live_index];
    std::swap(slot, live_streams_.back());
    slot->live_index = stream->live_index;
    free_streams_.push_back(std::move(live_streams_.back()));
    live_streams_.pop_back();
  }

  bool create_session() {
    nghttp2_session_callbacks* callbacks = nullptr;
    nghttp2_session_callbacks_new(&callbacks);
    nghttp2_session_callbacks_set_on_begin_headers_callback(callbacks, &on_begin_headers);
    nghttp2_session_callbacks_set_on_header_callback(callbacks, &on_header);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks, &on_data_chunk);
    nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks, &on_frame_recv);
    nghttp2_session_callbacks_set_on_stream_close_callback(callbacks, &on_stream_close);
    const int rv = nghttp2_session_server_new(&session_, callbacks, this);
    nghttp2_session_callbacks_del(callbacks);
    if (rv != 0) return false;

    // APNs advertises one stream until the first authorised request, then raises the limit.
    ramp_pending_ = shared_.behaviour.stream_ramp();
    const nghttp2_settings_entry settings[] = {
        {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS,
         ramp_pending_ ? 1u : shared_.behaviour.max_streams()},
        {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, stream_window},
    };
    return nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, settings, std::size(settings)) == 0 &&
           nghttp2_session_set_local_window_size(session_, NGHTTP2_FLAG_NONE, 0,
                                                 connection_window) == 0;
  }

  static H2Session& self(void* user_data) { return *static_cast<H2Session*>(user_data); }

  static Stream* stream_of(nghttp2_session* session, int32_t id) {
    return static_cast<Stream*>(nghttp2_session_get_stream_user_data(session, id));
  }

  static int on_begin_headers(nghttp2_session* session, const nghttp2_frame* frame,
                              void* user_data) {
    if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
    H2Session& s = self(user_data);
    // After our GOAWAY, streams above its last-stream-id are not processed (the client
    // knows they were not, and may resend them elsewhere).
    if (s.goaway_last_id_ >= 0 && frame->hd.stream_id > s.goaway_last_id_) return 0;
    Stream* stream = s.acquire_stream(frame->hd.stream_id);
    nghttp2_session_set_stream_user_data(session, frame->hd.stream_id, stream);
    ++s.open_streams_;
    s.shared_.stats.stream_opened(s.open_streams_);
    return 0;
  }

  static int on_header(nghttp2_session* session, const nghttp2_frame* frame, const uint8_t* name,
                       size_t name_length, const uint8_t* value, size_t value_length, uint8_t,
                       void*) {
    Stream* stream = stream_of(session, frame->hd.stream_id);
    if (!stream) return 0;
    const std::string_view key(reinterpret_cast<const char*>(name), name_length);
    const std::string_view text(reinterpret_cast<const char*>(value), value_length);
    if (key == ":method") {
      stream->request.set_method(text);
    } else if (key == ":path") {
      stream->request.set_path(text);
    } else if (key.empty() || key.front() != ':') {
      stream->request.add_header(key, text);
    }
    return 0;
  }

  static int on_data_chunk(nghttp2_session* session, uint8_t, int32_t stream_id,
                           const uint8_t* data, size_t length, void*) {
    if (Stream* stream = stream_of(session, stream_id)) {
      stream->request.append_body(std::string_view(reinterpret_cast<const char*>(data), length),
                                  max_request_body);
    }
    return 0;
  }

  static int on_frame_recv(nghttp2_session* session, const nghttp2_frame* frame, void* user_data) {
    if ((frame->hd.type == NGHTTP2_HEADERS || frame->hd.type == NGHTTP2_DATA) &&
        (frame->hd.flags & NGHTTP2_FLAG_END_STREAM)) {
      if (Stream* stream = stream_of(session, frame->hd.stream_id)) {
        self(user_data).on_request(*stream);
      }
    }
    return 0;
  }

  static int on_stream_close(nghttp2_session* session, int32_t stream_id, uint32_t,
                             void* user_data) {
    Stream* stream = stream_of(session, stream_id);
    if (!stream) return 0;
    H2Session& s = self(user_data);
    --s.open_streams_;
    s.shared_.stats.stream_closed();
    s.release_stream(stream);
    return 0;
  }

  static ssize_t read_body(nghttp2_session*, int32_t, uint8_t* buffer, size_t length,
                           uint32_t* data_flags, nghttp2_data_source* source, void*) {
    auto* stream = static_cast<Stream*>(source->ptr);
    const std::string& body = stream->response.body;
    const size_t n = std::min(length, body.size() - stream->body_offset);
    std::memcpy(buffer, body.data() + stream->body_offset, n);
    stream->body_offset += n;
    if (stream->body_offset == body.size()) *data_flags |= NGHTTP2_DATA_FLAG_EOF;
    return static_cast<ssize_t>(n);
  }

  // A complete request arrived (inside mem_recv).
  void on_request(Stream& stream) {
    if (drop_requested_) return;  // the connection is about to be dropped
    if (goaway_last_id_ >= 0 && stream.id > goaway_last_id_) return;  // refused by GOAWAY
    const Route* route = shared_.router.dispatch(stream.request, stream.response, context_);
    stream.counted = !route || route->counted;
    if (stream.counted) {
      shared_.stats.request_received();
      ++service_requests_;
    }

    if (ramp_pending_ && context_.authorized) {
      ramp_pending_ = false;
      const nghttp2_settings_entry raised{NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS,
                                          shared_.behaviour.max_streams()};
      nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, &raised, 1);
    }
    if (stream.counted) {
      const std::uint64_t drop_after = shared_.behaviour.drop_after();
      if (drop_after != 0 && service_requests_ >= drop_after) {
        drop_requested_ = true;  // done by the reader once nghttp2 has returned
        return;
      }
      const std::uint64_t goaway_after = shared_.behaviour.goaway_after();
      if (goaway_after != 0 && service_requests_ == goaway_after && goaway_last_id_ < 0) {
        send_goaway(stream.id);
      }
    }
    if (stream.response.no_answer) return;

    if (const std::uint32_t latency = shared_.behaviour.latency_ms(); latency > 0) {
      if (!stream.delay) stream.delay.emplace(stream_.get_executor());
      stream.delay->expires_after(std::chrono::milliseconds(latency));
      stream.delay->async_wait(
          [self = shared_from_this(), s = &stream, id = stream.id](error_code ec) {
            if (ec || self->finished_ || s->closed || s->id != id) return;
            self->respond(*s);
            self->signal_write();
          });
      return;
    }
    respond(stream);
  }

  // GOAWAY with `last_id`: streams above it are refused, including ones already begun, so
  // the client may resend them elsewhere without a duplicate.
  void send_goaway(int32_t last_id) {
    goaway_last_id_ = last_id;
    nghttp2_submit_goaway(session_, NGHTTP2_FLAG_NONE, last_id, NGHTTP2_NO_ERROR, nullptr, 0);
    for (const auto& stream : live_streams_) {
      if (stream->id > last_id) {
        nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, stream->id, NGHTTP2_REFUSED_STREAM);
      }
    }
    shared_.stats.goaway_sent();
  }

  void respond(Stream& stream) {
    Response& response = stream.response;
    std::array<nghttp2_nv, 16> nva;
    std::size_t n = 0;
    const auto status = std::to_chars(stream.status_text.data(),
                                      stream.status_text.data() + stream.status_text.size(),
                                      response.status);
    nva[n++] = make_nv(":status", std::string_view(stream.status_text.data(),
                                                   status.ptr - stream.status_text.data()));
    for (const auto& [name, value] : response.headers) {
      if (n + 1 == nva.size()) break;
      // apns-id differs in every response: HPACK indexing it would only churn the table.
      nva[n++] = make_nv(name, value, name == "apns-id" ? NGHTTP2_NV_FLAG_NO_INDEX : NGHTTP2_NV_FLAG_NONE);
    }
    nghttp2_data_provider provider{};
    if (!response.body.empty()) {
      const auto length = std::to_chars(stream.length_text.data(),
                                        stream.length_text.data() + stream.length_text.size(),
                                        response.body.size());
      nva[n++] = make_nv("content-length",
                         std::string_view(stream.length_text.data(),
                                          length.ptr - stream.length_text.data()));
      provider.source.ptr = &stream;
      provider.read_callback = &read_body;
    }
    nghttp2_submit_response(session_, stream.id, nva.data(), n,
                            response.body.empty() ? nullptr : &provider);
    if (stream.counted) {
      shared_.stats.response_sent(response.status, response.reason, response.delivered,
                                  response.delivery_key, response.enqueued_ms);
      if (shared_.behaviour.record_requests()) shared_.requests.record(stream.request, response);
    }
  }

  void signal_write() {
    if (writer_waiting_) write_wake_.cancel();
  }

  void finish() {
    if (finished_) return;
    finished_ = true;
    error_code ignored;
    stream_.lowest_layer().close(ignored);
    write_wake_.cancel();
  }

  // Half-closes and lets the reader drain until the client closes (or a short while passes):
  // closing with unread input would send a TCP RST, which can destroy responses the client
  // has not read yet.
  void linger() {
    error_code ignored;
    stream_.lowest_layer().shutdown(tcp::socket::shutdown_send, ignored);
    write_wake_.expires_after(linger_time);
    write_wake_.async_wait([self = shared_from_this()](error_code ec) {
      if (!ec) self->finish();
    });
  }

  void check_goaway_done() {
    if (goaway_last_id_ >= 0 && open_streams_ == 0 && !close_after_flush_) {
      close_after_flush_ = true;
      signal_write();
    }
  }

  asio::awaitable<void> reader() {
    std::array<uint8_t, 64 * 1024> buffer;
    while (!finished_) {
      auto [ec, n] = co_await stream_.async_read_some(asio::buffer(buffer),
                                                      asio::as_tuple(asio::use_awaitable));
      if (ec || finished_) break;
      const auto rv = nghttp2_session_mem_recv(session_, buffer.data(), n);
      if (rv < 0) break;
      if (drop_requested_) {
        shared_.stats.connection_dropped();
        break;  // abruptly: no GOAWAY, no close_notify, unanswered streams stay unanswered
      }
      check_goaway_done();
      signal_write();
    }
    finish();
  }

  asio::awaitable<void> writer() {
    auto keep = shared_from_this();
    std::string buffer;
    buffer.reserve(write_limit);
    while (!finished_) {
      buffer.clear();
      while (buffer.size() < write_limit) {
        const uint8_t* data = nullptr;
        const auto n = nghttp2_session_mem_send(session_, &data);
        if (n < 0) {
          finish();
          co_return;
        }
        if (n == 0) break;
        buffer.append(reinterpret_cast<const char*>(data), static_cast<size_t>(n));
      }
      check_goaway_done();
      if (buffer.empty()) {
        if (close_after_flush_ ||
            (!nghttp2_session_want_read(session_) && !nghttp2_session_want_write(session_))) {
          linger();
          co_return;
        }
        writer_waiting_ = true;
        co_await write_wake_.async_wait(asio::as_tuple(asio::use_awaitable));
        writer_waiting_ = false;
        continue;
      }
      auto [ec, written] = co_await asio::async_write(stream_, asio::buffer(buffer),
                                                      asio::as_tuple(asio::use_awaitable));
      if (ec) {
        finish();
        co_return;
      }
    }
  }

  Shared& shared_;
  TlsStream stream_;
  nghttp2_session* session_ = nullptr;
  ConnectionContext context_;
  asio::steady_timer write_wake_;
  bool writer_waiting_ = false;
  bool finished_ = false;
  bool close_after_flush_ = false;
  bool ramp_pending_ = false;
  bool drop_requested_ = false;
  int32_t goaway_last_id_ = -1;
  std::uint64_t service_requests_ = 0;
  std::uint64_t open_streams_ = 0;
  std::vector<std::unique_ptr<Stream>> live_streams_;
  std::vector<std::unique_ptr<Stream>> free_streams_;
};

// ---------------------------------------------------------------------------------------
// HTTP/1.1: for curl and the like (control endpoints and, later, OAuth token requests).
// ---------------------------------------------------------------------------------------
asio::awaitable<void> serve_http1(Shared& shared, TlsStream& stream) {
  beast::flat_buffer buffer;
  ConnectionContext context{.http2 = false};
  Request request;
  Response response;
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(1024 * 1024);
    parser.header_limit(16 * 1024);
    auto [read_ec, read_size] =
        co_await http::async_read(stream, buffer, parser, asio::as_tuple(asio::use_awaitable));
    if (read_ec) break;
    const auto& in = parser.get();

    request.clear();
    response.clear();
    request.set_method(in.method_string());
    request.set_path(in.target());
    std::string name;
    for (const auto& field : in) {
      name.assign(field.name_string());
      for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      request.add_header(name, field.value());
    }
    request.append_body(in.body(), in.body().size());

    int status = 404;
    const Route* route = shared.router.find(request.method(), request.path(), &status);
    if (route && !route->http1) {
      response.set_json(505, R"({"reason":"HTTP/2 is required for this endpoint"})");
    } else {
      route = shared.router.dispatch(request, response, context);
    }
    const bool counted = !route || route->counted;
    if (counted) shared.stats.request_received();
    if (response.no_answer) break;
    if (counted) {
      shared.stats.response_sent(response.status, response.reason, response.delivered,
                                 response.delivery_key, response.enqueued_ms);
      if (shared.behaviour.record_requests()) shared.requests.record(request, response);
    }

    http::response<http::string_body> out{static_cast<http::status>(response.status),
                                          in.version()};
    for (const auto& [field, value] : response.headers) out.set(field, value);
    out.body() = std::move(response.body);
    out.keep_alive(in.keep_alive());
    out.prepare_payload();
    auto [write_ec, written] =
        co_await http::async_write(stream, out, asio::as_tuple(asio::use_awaitable));
    if (write_ec || !out.keep_alive()) break;
  }
}

asio::awaitable<void> serve_connection(Shared& shared, tcp::socket socket) {
  error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);
  // Shared with the handshake deadline's handler, which may run after this frame is gone.
  auto stream = std::make_shared<TlsStream>(std::move(socket), shared.tls);

  // A client that never finishes its handshake must not hold the connection forever.
  asio::steady_timer deadline(stream->get_executor());
  deadline.expires_after(handshake_timeout);
  deadline.async_wait([weak = std::weak_ptr<TlsStream>(stream)](error_code ec) {
    if (auto s = weak.lock(); s && !ec) {
      error_code e;
      s->lowest_layer().close(e);
    }
  });
  auto [handshake_ec] = co_await stream->async_handshake(asio::ssl::stream_base::server,
                                                         asio::as_tuple(asio::use_awaitable));
  deadline.cancel();
  if (handshake_ec) co_return;

  const unsigned char* alpn = nullptr;
  unsigned alpn_length = 0;
  SSL_get0_alpn_selected(stream->native_handle(), &alpn, &alpn_length);
  const bool h2 = alpn_length == 2 && std::memcmp(alpn, "h2", 2) == 0;

  shared.stats.connection_opened();
  if (h2) {
    auto session = std::make_shared<H2Session>(shared, std::move(*stream));
    co_await session->run();
  } else {
    co_await serve_http1(shared, *stream);
    stream->lowest_layer().close(ignored);
  }
  shared.stats.connection_closed();
}

// One acceptor hands connections to the threads' io_contexts in turn. (Not SO_REUSEPORT:
// with it a second simulator could silently share the port.)
asio::awaitable<void> accept_loop(Shared& shared, tcp::acceptor& acceptor,
                                  std::vector<asio::io_context*> threads) {
  std::size_t next = 0;
  for (;;) {
    asio::io_context& target = *threads[next++ % threads.size()];
    auto [ec, socket] =
        co_await acceptor.async_accept(target, asio::as_tuple(asio::use_awaitable));
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
      continue;  // e.g. EMFILE: keep serving the connections we have
    }
    asio::co_spawn(target, serve_connection(shared, std::move(socket)), asio::detached);
  }
}

void add_control_routes(Shared& shared) {
  const auto control = [](std::string method, std::string path, Handler handler) {
    return Route{.method = std::move(method),
                 .path = std::move(path),
                 .prefix = false,
                 .counted = false,
                 .http1 = true,
                 .handler = std::move(handler)};
  };
  shared.router.add(control("GET", "/sim/stats", [&shared](const Request&, Response& response,
                                                          ConnectionContext&) {
    response.set_json(200, shared.stats.to_json());
  }));
  shared.router.add(control("POST", "/sim/reset", [&shared](const Request&, Response& response,
                                                           ConnectionContext&) {
    shared.stats.reset();
    shared.requests.clear();
    response.set_json(200, shared.stats.to_json());
  }));
  shared.router.add(control("GET", "/sim/requests", [&shared](const Request&, Response& response,
                                                             ConnectionContext&) {
    response.set_json(200, shared.requests.to_json());
  }));
  shared.router.add(control("GET", "/sim/config", [&shared](const Request&, Response& response,
                                                           ConnectionContext&) {
    response.set_json(200, shared.behaviour.to_json());
  }));
  shared.router.add(control("POST", "/sim/config", [&shared](const Request& request,
                                                            Response& response,
                                                            ConnectionContext&) {
    std::string error;
    if (shared.behaviour.apply_json(request.body(), &error)) {
      spdlog::info("pushgw-sim: behaviour now {}", shared.behaviour.to_json());
      response.set_json(200, shared.behaviour.to_json());
    } else {
      response.set_json(400, nlohmann::json{{"error", error}}.dump());
    }
  }));
}

}  // namespace

// ---------------------------------------------------------------------------------------

struct Server::Impl {
  explicit Impl(ServerOptions options) : shared(std::move(options)) {}

  Shared shared;
  std::vector<std::unique_ptr<asio::io_context>> threads_io;  // one per thread
  std::vector<std::thread> threads;
  std::unique_ptr<tcp::acceptor> acceptor;  // on threads_io[0]
  std::uint16_t port = 0;
  bool running = false;
  bool routes_added = false;

  bool load_keys(std::string* error) {
    const ServerOptions& o = shared.options;
    error_code ec;
    SSL_CTX_set_min_proto_version(shared.tls.native_handle(), TLS1_2_VERSION);
    shared.tls.use_certificate_chain_file(o.cert_file, ec);
    if (ec) {
      *error = "--cert " + o.cert_file + ": " + ec.message();
      return false;
    }
    shared.tls.use_private_key_file(o.key_file, asio::ssl::context::pem, ec);
    if (ec) {
      *error = "--key " + o.key_file + ": " + ec.message();
      return false;
    }
    if (SSL_CTX_check_private_key(shared.tls.native_handle()) != 1) {
      *error = "--key " + o.key_file + " does not match --cert " + o.cert_file;
      return false;
    }
    SSL_CTX_set_alpn_select_cb(shared.tls.native_handle(), &select_alpn, nullptr);

    if (!o.apns_key_file.empty()) {
      std::string why;
      shared.verifier = ProviderTokenVerifier::from_file(o.apns_key_file, o.apns_key_id,
                                                         o.apns_team_id, &why);
      if (!shared.verifier) {
        *error = "--apns-key " + why;
        return false;
      }
    } else if (!o.behaviour.no_auth) {
      *error = "--apns-key is required (or --no-auth to accept any provider token)";
      return false;
    }

    if (!o.fcm_service_account_file.empty()) {
      std::string why;
      const auto account = oauth::load_service_account(o.fcm_service_account_file, &why);
      if (account) shared.oauth = oauth::TokenIssuer::create(*account, &why);
      if (!shared.oauth) {
        *error = "--fcm-service-account " +
                 (account ? o.fcm_service_account_file + ": " + why : why);
        return false;
      }
    }
    return true;
  }

  bool bind(std::string* error) {
    const ServerOptions& o = shared.options;
    error_code ec;
    const auto address = asio::ip::make_address(o.listen_host, ec);
    if (ec) {
      *error = "--listen: \"" + o.listen_host + "\" is not an IP address";
      return false;
    }
    for (unsigned i = 0; i < std::max(1u, o.threads); ++i) {
      threads_io.push_back(std::make_unique<asio::io_context>(1));
    }
    acceptor = std::make_unique<tcp::acceptor>(*threads_io[0]);
    const tcp::endpoint endpoint(address, o.listen_port);
    acceptor->open(endpoint.protocol(), ec);
    if (!ec) acceptor->set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) acceptor->bind(endpoint, ec);
    if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      *error = "--listen " + o.listen_host + ":" + std::to_string(o.listen_port) + ": " +
               ec.message();
      acceptor.reset();
      threads_io.clear();
      return false;
    }
    port = acceptor->local_endpoint().port();
    return true;
  }

  void stop() {
    if (!running) return;
    running = false;
    for (auto& io : threads_io) io->stop();
    for (auto& thread : threads) thread.join();
    threads.clear();
    // Destroying the io_contexts destroys the suspended connection coroutines.
    acceptor.reset();
    threads_io.clear();
  }
};

Server::Server(ServerOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}

Server::~Server() { stop(); }

bool Server::start(std::string* error) {
  std::string ignored;
  if (!error) error = &ignored;
  if (impl_->running) return true;
  Shared& shared = impl_->shared;
  if (!impl_->load_keys(error)) return false;
  if (!impl_->routes_added) {
    impl_->routes_added = true;
    shared.apns = std::make_unique<apns::Service>(shared.verifier.get(), shared.behaviour);
    shared.apns->add_routes(shared.router);
    shared.broadcast = std::make_unique<broadcast::Service>(shared.verifier.get(), shared.behaviour);
    shared.broadcast->add_routes(shared.router);
    if (shared.oauth) {
      shared.fcm = std::make_unique<fcm::Service>(*shared.oauth, shared.behaviour);
      shared.oauth->add_routes(shared.router);
      shared.fcm->add_routes(shared.router);
    }
    add_control_routes(shared);
  }
  if (!impl_->bind(error)) return false;

  impl_->running = true;
  std::vector<asio::io_context*> contexts;
  for (auto& io : impl_->threads_io) contexts.push_back(io.get());
  asio::co_spawn(*contexts[0], accept_loop(shared, *impl_->acceptor, contexts), asio::detached);
  for (auto* io : contexts) {
    // Connections keep each io_context busy; the guard keeps idle ones running too.
    impl_->threads.emplace_back([io] {
      auto guard = asio::make_work_guard(*io);
      io->run();
    });
  }
  return true;
}

void Server::stop() { impl_->stop(); }

std::uint16_t Server::port() const { return impl_->port; }
Stats& Server::stats() { return impl_->shared.stats; }
Behaviour& Server::behaviour() { return impl_->shared.behaviour; }

}  // namespace pushgw::sim
