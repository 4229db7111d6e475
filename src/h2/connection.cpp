#include "pushgw/h2/connection.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <cstring>
#include <deque>
#include <iterator>
#include <list>
#include <mutex>
#include <optional>
#include <sstream>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <nghttp2/nghttp2.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <spdlog/spdlog.h>

#include "pushgw/h2/stream_table.hpp"
#include "pushgw/h2/tls.hpp"

namespace pushgw::h2 {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using boost::system::error_code;

const std::string* Response::find_header(std::string_view name) const {
  for (const auto& header : headers) {
    if (header.name == name) return &header.value;
  }
  return nullptr;
}

std::string_view to_string(ConnectionState state) {
  switch (state) {
    case ConnectionState::connecting: return "connecting";
    case ConnectionState::ready: return "ready";
    case ConnectionState::draining: return "draining";
    case ConnectionState::closed: return "closed";
  }
  return "unknown";
}

// ---------------------------------------------------------------------------------------
// Connection
// ---------------------------------------------------------------------------------------
namespace {

using Clock = std::chrono::steady_clock;
constexpr std::size_t max_response_body = 1 << 20;  // bigger responses are a protocol error
constexpr std::size_t max_response_headers = 100;

// A request waiting for a stream slot (the server's concurrency limit), or for the
// connection to get ready. Copied: rare, and the caller need not keep it.
struct PendingRequest {
  Request request;
  ResultHandler done;
};

// A coroutine waiting for a state change (connect(), wait_unusable(), wait_closed(), request()
// on a connection still connecting).
struct StateWaiter {
  explicit StateWaiter(const asio::any_io_executor& ex) : timer(ex, Clock::time_point::max()) {}
  asio::steady_timer timer;
};

bool valid_header_text(std::string_view text) {
  // Three vectorised memchr scans; find_first_of with a 3-character set calls memchr once per
  // character of `text`, a byte loop is not vectorised: both showed in profiles.
  return text.find('\r') == std::string_view::npos && text.find('\n') == std::string_view::npos &&
         text.find('\0') == std::string_view::npos;
}

bool valid_header_name(std::string_view name) {
  if (name.empty() || name.front() == ':') return false;
  for (const char c : name) {
    if (c >= 'A' && c <= 'Z') return false;
    if (c <= ' ' || c == 0x7f) return false;
  }
  return true;
}

nghttp2_nv make_nv(std::string_view name, std::string_view value, bool unique = false) {
  return nghttp2_nv{reinterpret_cast<uint8_t*>(const_cast<char*>(name.data())),
                    reinterpret_cast<uint8_t*>(const_cast<char*>(value.data())), name.size(),
                    value.size(), static_cast<uint8_t>(unique ? NGHTTP2_NV_FLAG_NO_INDEX : NGHTTP2_NV_FLAG_NONE)};
}

}  // namespace

struct Connection::Impl : std::enable_shared_from_this<Impl> {
  Impl(asio::any_io_executor executor, ConnectionConfig configuration,
       std::shared_ptr<asio::ssl::context> context)
      : ex(std::move(executor)),
        cfg(std::move(configuration)),
        tls(std::move(context)),
        resolver(ex),
        timeout_timer(ex, Clock::time_point::max()),
        write_wake(ex, Clock::time_point::max()),
        ping_timer(ex),
        watchdog(ex),
        authority(cfg.port == 443 ? cfg.host : cfg.host + ":" + std::to_string(cfg.port)) {}

  ~Impl() {
    if (session) nghttp2_session_del(session);
  }

  asio::any_io_executor ex;
  ConnectionConfig cfg;
  std::shared_ptr<asio::ssl::context> tls;
  tcp::resolver resolver;
  std::optional<asio::ssl::stream<tcp::socket>> socket;
  nghttp2_session* session = nullptr;

  std::atomic<ConnectionState> state{ConnectionState::connecting};
  std::atomic<std::size_t> inflight{0};
  std::atomic<std::uint32_t> remote_max_streams{0};
  mutable std::mutex detail_mutex;
  std::string detail;

  bool connect_started = false;
  bool in_nghttp2 = false;          // inside mem_recv/mem_send: callbacks must not re-enter
  std::optional<std::pair<error_code, std::string>> deferred_failure;  // see fail()
  bool close_after_flush = false;   // drained: close once the write buffer is out
  bool timed_out = false;           // the connect watchdog fired

  // Streams and their deadlines. nghttp2 keeps each open stream's Stream* as its stream user
  // data, so callbacks find it without a map of ours.
  StreamTable streams;
  Stream* last_found = nullptr;  // the stream the last callback was about (they come in runs)
  std::deque<PendingRequest> pending;  // waiting for a stream slot, oldest first
  std::list<StateWaiter*> state_waiters;
  std::vector<nghttp2_nv> nva;         // reused by every submission

  asio::steady_timer timeout_timer;    // at streams.next_deadline()

  // Results are handed to their callers from a posted function, never from inside nghttp2 or
  // submit(): a caller may submit again or wake coroutines without re-entering this connection.
  std::vector<std::pair<ResultHandler, Result>> completed;
  std::vector<std::pair<ResultHandler, Result>> delivering;
  bool delivery_posted = false;

  // The shared header block last found valid: a notification's requests share one, so it is
  // checked once rather than per request. Held, so its address cannot be reused meanwhile.
  std::shared_ptr<const std::vector<Header>> validated_shared;

  asio::steady_timer write_wake;
  bool writer_waiting = false;
  std::string write_buffer;
  std::array<uint8_t, 32 * 1024> read_buffer{};

  asio::steady_timer ping_timer;
  Clock::time_point last_received = Clock::now();
  bool ping_outstanding = false;

  asio::steady_timer watchdog;
  const std::string authority;  // :authority of every request: host, or host:port

  // --- small helpers ------------------------------------------------------------------

  void set_detail(std::string text) {
    std::lock_guard lock(detail_mutex);
    detail = std::move(text);
  }

  std::string get_detail() const {
    std::lock_guard lock(detail_mutex);
    return detail;
  }

  void set_state(ConnectionState next) {
    state.store(next);
    for (auto* waiter : state_waiters) waiter->timer.cancel();
  }

  void signal_write() {
    if (writer_waiting) write_wake.cancel();
  }

  bool can_start_stream() const { return streams.open_count() < remote_max_streams.load(); }

  // Queues `result` for `done`; one posted delivery hands over everything queued by then.
  void finish(ResultHandler done, Result result) {
    completed.emplace_back(std::move(done), std::move(result));
    if (delivery_posted) return;
    auto self = weak_from_this().lock();
    if (!self) return;  // being destroyed: nobody waits any more
    delivery_posted = true;
    asio::post(ex, [self = std::move(self)] { self->deliver(); });
  }

  // The same for a request submit() accepted (counted in `inflight`).
  void finish_accepted(ResultHandler done, Result result) {
    --inflight;
    finish(std::move(done), std::move(result));
  }

  void deliver() {
    delivery_posted = false;
    delivering.swap(completed);
    for (auto& [done, result] : delivering) done(std::move(result));  // handlers do not throw
    delivering.clear();
  }

  // Starts waiting requests on free stream slots, oldest first. Not from inside nghttp2 (a
  // callback): the reader and writer call it again once nghttp2 has returned.
  void grant_slots() {
    if (in_nghttp2) return;
    while (!pending.empty() && state.load() == ConnectionState::ready && can_start_stream()) {
      PendingRequest next = std::move(pending.front());
      pending.pop_front();
      start_stream(next.request, std::move(next.done));
    }
  }

  void fail_pending() {
    std::deque<PendingRequest> failed;
    failed.swap(pending);
    for (auto& request : failed) finish_accepted(std::move(request.done), Result{error::not_processed, {}});
  }

  void complete(Stream& stream, error_code ec) {
    if (!stream.done) return;
    finish_accepted(std::exchange(stream.done, nullptr), Result{ec, std::move(stream.response)});
  }

  // Gives a closed (or never sent) stream's slot back.
  void release_stream(Stream* stream) {
    if (last_found == stream) last_found = nullptr;
    if (session && stream->id > 0) nghttp2_session_set_stream_user_data(session, stream->id, nullptr);
    streams.release(*stream);
  }

  // After a GOAWAY or shutdown(): no new streams; close once the open ones are done.
  void begin_draining(std::string why) {
    if (state.load() != ConnectionState::ready && state.load() != ConnectionState::connecting) {
      return;
    }
    set_detail(std::move(why));
    set_state(ConnectionState::draining);
    fail_pending();
    check_drained();
  }

  bool apply_deferred_failure() {
    if (!deferred_failure) return false;
    auto [ec, why] = std::move(*deferred_failure);
    deferred_failure.reset();
    fail(ec, std::move(why));
    return true;
  }

  void check_drained() {
    if (state.load() == ConnectionState::draining && streams.open_count() == 0 && !close_after_flush) {
      close_after_flush = true;
      signal_write();
    }
  }

  // Closes the socket and completes everything. `sent_error` is what streams whose HEADERS
  // went out get; the others get not_processed. Inside nghttp2 (a callback) the failure is
  // only recorded: the reader or writer applies it once nghttp2 has returned.
  void fail(error_code sent_error, std::string why) {
    if (state.load() == ConnectionState::closed) return;
    if (in_nghttp2) {
      if (!deferred_failure) deferred_failure.emplace(sent_error, std::move(why));
      return;
    }
    if (!why.empty()) set_detail(std::move(why));
    for (Stream* stream : streams.open_streams()) {
      complete(*stream, stream->headers_sent ? sent_error : error::not_processed);
    }
    // The streams stay in use: nghttp2 may read their bodies until the session goes.
    fail_pending();
    timeout_timer.cancel();
    error_code ignored;
    resolver.cancel();
    if (socket) socket->lowest_layer().close(ignored);
    write_wake.cancel();
    ping_timer.cancel();
    watchdog.cancel();
    set_state(ConnectionState::closed);
  }

  // --- nghttp2 callbacks (run inside mem_recv/mem_send; they only record and wake) ------

  static Impl& self(void* user_data) { return *static_cast<Impl*>(user_data); }

  // The stream in use with this id, or nullptr. Only for streams nghttp2 has opened (their
  // HEADERS went out or are going out); see on_frame_not_send for the others.
  Stream* find(int32_t stream_id) {
    if (last_found && last_found->id == stream_id) return last_found;
    auto* stream = static_cast<Stream*>(nghttp2_session_get_stream_user_data(session, stream_id));
    if (stream) last_found = stream;
    return stream;
  }

  static int on_header(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name,
                       size_t name_length, const uint8_t* value, size_t value_length, uint8_t,
                       void* user_data) {
    if (frame->hd.type != NGHTTP2_HEADERS) return 0;
    Stream* stream = self(user_data).find(frame->hd.stream_id);
    if (!stream || !stream->done) return 0;
    const std::string_view key(reinterpret_cast<const char*>(name), name_length);
    const std::string_view text(reinterpret_cast<const char*>(value), value_length);
    Response& response = stream->response;
    if (key == ":status") {
      int status = 0;
      for (const char c : text) status = status * 10 + (c - '0');  // nghttp2 validated digits
      response.status = status;
    } else if (response.headers.size() < max_response_headers) {
      response.headers.push_back({std::string(key), std::string(text)});
    }
    return 0;
  }

  static int on_data_chunk(nghttp2_session* session, uint8_t, int32_t stream_id,
                           const uint8_t* data, size_t length, void* user_data) {
    Stream* stream = self(user_data).find(stream_id);
    if (!stream || !stream->done) return 0;
    std::string& body = stream->response.body;
    if (body.size() + length > max_response_body) {
      self(user_data).complete(*stream, error::protocol);
      nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, stream_id, NGHTTP2_CANCEL);
      return 0;
    }
    body.append(reinterpret_cast<const char*>(data), length);
    return 0;
  }

  static int on_frame_recv(nghttp2_session* session, const nghttp2_frame* frame, void* user_data) {
    Impl& impl = self(user_data);
    switch (frame->hd.type) {
      case NGHTTP2_SETTINGS:
        if (frame->hd.flags & NGHTTP2_FLAG_ACK) break;
        impl.remote_max_streams.store(
            nghttp2_session_get_remote_settings(session, NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS));
        if (impl.state.load() == ConnectionState::connecting && !impl.timed_out) {
          impl.set_state(ConnectionState::ready);
        }
        impl.grant_slots();
        break;
      case NGHTTP2_HEADERS:
      case NGHTTP2_DATA:
        if (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) {
          if (Stream* stream = impl.find(frame->hd.stream_id); stream && stream->done) {
            // A final response; an interim (1xx) one never carries END_STREAM.
            impl.complete(*stream, stream->response.status >= 200 ? error_code{} : error::protocol);
          }
        }
        break;
      case NGHTTP2_GOAWAY: {
        std::string why = "server sent GOAWAY (error " +
                          std::string(nghttp2_http2_strerror(frame->goaway.error_code)) +
                          ", last stream " + std::to_string(frame->goaway.last_stream_id) + ")";
        if (frame->goaway.opaque_data_len > 0) {
          why += ": " + std::string(reinterpret_cast<const char*>(frame->goaway.opaque_data),
                                    std::min<size_t>(frame->goaway.opaque_data_len, 200));
        }
        // nghttp2 itself closes our streams above last_stream_id with REFUSED_STREAM.
        impl.begin_draining(std::move(why));
        break;
      }
      case NGHTTP2_PING:
        if (frame->hd.flags & NGHTTP2_FLAG_ACK) impl.ping_outstanding = false;
        break;
      default:
        break;
    }
    return 0;
  }

  static int on_frame_send(nghttp2_session*, const nghttp2_frame* frame, void* user_data) {
    if (frame->hd.type == NGHTTP2_HEADERS) {
      if (Stream* stream = self(user_data).find(frame->hd.stream_id)) stream->headers_sent = true;
    }
    return 0;
  }

  static int on_frame_not_send(nghttp2_session*, const nghttp2_frame* frame, int,
                               void* user_data) {
    if (frame->hd.type != NGHTTP2_HEADERS) return 0;
    Impl& impl = self(user_data);
    // nghttp2 may not have opened the stream (no user data yet): look for it among ours. Rare
    // (a GOAWAY or shutdown with requests queued), so a scan is fine.
    Stream* stream = impl.streams.find_open(frame->hd.stream_id);
    if (!stream) return 0;
    // The request never left (e.g. a GOAWAY arrived first): safe to send elsewhere.
    impl.complete(*stream, error::not_processed);
    impl.release_stream(stream);
    return 0;
  }

  static int on_stream_close(nghttp2_session*, int32_t stream_id, uint32_t error_code,
                             void* user_data) {
    Impl& impl = self(user_data);
    Stream* stream = impl.find(stream_id);
    if (!stream) return 0;
    if (stream->done) {
      // Closed before a complete response.
      impl.complete(*stream, error_code == NGHTTP2_REFUSED_STREAM ? error::not_processed
                                                                  : error::stream_reset);
    }
    impl.release_stream(stream);
    return 0;
  }

  static ssize_t read_body(nghttp2_session*, int32_t, uint8_t* buffer, size_t length,
                           uint32_t* data_flags, nghttp2_data_source* source, void*) {
    auto* stream = static_cast<Stream*>(source->ptr);
    const std::string_view body = stream->body_text();
    const size_t n = std::min(length, body.size() - stream->body_offset);
    std::memcpy(buffer, body.data() + stream->body_offset, n);
    stream->body_offset += n;
    if (stream->body_offset == body.size()) *data_flags |= NGHTTP2_DATA_FLAG_EOF;
    return static_cast<ssize_t>(n);
  }

  bool create_session() {
    nghttp2_session_callbacks* callbacks = nullptr;
    nghttp2_session_callbacks_new(&callbacks);
    nghttp2_session_callbacks_set_on_header_callback(callbacks, &on_header);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks, &on_data_chunk);
    nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks, &on_frame_recv);
    nghttp2_session_callbacks_set_on_frame_send_callback(callbacks, &on_frame_send);
    nghttp2_session_callbacks_set_on_frame_not_send_callback(callbacks, &on_frame_not_send);
    nghttp2_session_callbacks_set_on_stream_close_callback(callbacks, &on_stream_close);
    const int rv = nghttp2_session_client_new(&session, callbacks, this);
    nghttp2_session_callbacks_del(callbacks);
    if (rv != 0) return false;

    const nghttp2_settings_entry settings[] = {
        {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
        {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, cfg.stream_window},
    };
    if (nghttp2_submit_settings(session, NGHTTP2_FLAG_NONE, settings, std::size(settings)) != 0) {
      return false;
    }
    // The connection window is not a SETTING: raise it with a WINDOW_UPDATE.
    return nghttp2_session_set_local_window_size(session, NGHTTP2_FLAG_NONE, 0,
                                                 static_cast<int32_t>(cfg.connection_window)) == 0;
  }

  // --- coroutines -----------------------------------------------------------------------

  asio::awaitable<void> wait_for(auto predicate) {
    StateWaiter waiter(ex);
    auto it = state_waiters.insert(state_waiters.end(), &waiter);
    struct Remove {
      std::list<StateWaiter*>& list;
      std::list<StateWaiter*>::iterator it;
      ~Remove() { list.erase(it); }
    } remove{state_waiters, it};
    while (!predicate()) {
      co_await waiter.timer.async_wait(asio::as_tuple(asio::use_awaitable));
    }
  }

  asio::awaitable<error_code> connect() {
    auto keep = shared_from_this();
    if (connect_started) co_return make_error_code(error::closed);
    connect_started = true;

    if (!tls) {
      std::string why;
      tls = make_tls_context(cfg, &why);
      if (!tls) {
        fail({}, "TLS configuration: " + why);
        co_return make_error_code(error::tls_failed);
      }
    }
    socket.emplace(ex, *tls);

    // One deadline for the whole connect: the watchdog closes the socket when it fires.
    watchdog.expires_after(cfg.connect_timeout);
    watchdog.async_wait([weak = weak_from_this()](error_code ec) {
      auto impl = weak.lock();
      if (ec || !impl || impl->state.load() != ConnectionState::connecting) return;
      impl->timed_out = true;
      impl->fail({}, "connect to " + impl->cfg.host + ":" + std::to_string(impl->cfg.port) +
                         " timed out after " + std::to_string(impl->cfg.connect_timeout.count()) +
                         " ms");
    });
    const auto failed = [this](error e, std::string why) {
      if (timed_out) return make_error_code(error::timeout);
      fail({}, std::move(why));
      return make_error_code(e);
    };
    const std::string where = cfg.host + ":" + std::to_string(cfg.port);

    auto [resolve_ec, endpoints] = co_await resolver.async_resolve(
        cfg.host, std::to_string(cfg.port), asio::as_tuple(asio::use_awaitable));
    if (resolve_ec || state.load() != ConnectionState::connecting) {
      co_return failed(error::connect_failed, "resolve " + cfg.host + ": " + resolve_ec.message());
    }
    auto [connect_ec, endpoint] = co_await asio::async_connect(
        socket->lowest_layer(), endpoints, asio::as_tuple(asio::use_awaitable));
    if (connect_ec || state.load() != ConnectionState::connecting) {
      co_return failed(error::connect_failed, "connect " + where + ": " + connect_ec.message());
    }
    error_code ignored;
    socket->lowest_layer().set_option(tcp::no_delay(true), ignored);

    SSL* ssl = socket->native_handle();
    // Asio sets RELEASE_BUFFERS: OpenSSL then frees its ~17 KB record buffers whenever they
    // empty and allocates them again on the next read or write, which on a busy connection is
    // every few requests (and each such allocation makes glibc consolidate its fast bins). A
    // handful of connections can keep them.
    SSL_clear_mode(ssl, SSL_MODE_RELEASE_BUFFERS);
    error_code not_ip;
    asio::ip::make_address(cfg.host, not_ip);
    if (not_ip) SSL_set_tlsext_host_name(ssl, cfg.host.c_str());  // SNI is for names only
    if (cfg.verify_peer) socket->set_verify_callback(asio::ssl::host_name_verification(cfg.host));
    auto [handshake_ec] = co_await socket->async_handshake(asio::ssl::stream_base::client,
                                                           asio::as_tuple(asio::use_awaitable));
    if (handshake_ec || state.load() != ConnectionState::connecting) {
      std::string why = "TLS handshake with " + where + ": " + handshake_ec.message();
      if (const long verify = SSL_get_verify_result(ssl); verify != X509_V_OK) {
        why += " (certificate: " + std::string(X509_verify_cert_error_string(verify)) + ")";
      }
      co_return failed(error::tls_failed, std::move(why));
    }
    const unsigned char* alpn = nullptr;
    unsigned alpn_length = 0;
    SSL_get0_alpn_selected(ssl, &alpn, &alpn_length);
    if (alpn_length != 2 || std::memcmp(alpn, "h2", 2) != 0) {
      const std::string selected =
          alpn_length ? std::string(reinterpret_cast<const char*>(alpn), alpn_length) : "none";
      co_return failed(error::alpn_not_h2,
                       where + " did not select HTTP/2 via ALPN (selected: " + selected + ")");
    }

    if (!create_session()) co_return failed(error::protocol, "cannot create the nghttp2 session");
    asio::co_spawn(ex, reader(), asio::detached);
    asio::co_spawn(ex, writer(), asio::detached);
    asio::co_spawn(ex, expire_streams(), asio::detached);

    // Ready once the server's SETTINGS arrive (its stream limit is then known).
    co_await wait_for([this] { return state.load() != ConnectionState::connecting; });
    if (state.load() != ConnectionState::ready) {
      co_return timed_out ? make_error_code(error::timeout) : make_error_code(error::protocol);
    }
    watchdog.cancel();
    last_received = Clock::now();
    if (cfg.ping_interval.count() > 0) asio::co_spawn(ex, pinger(), asio::detached);
    co_return error_code{};
  }

  asio::awaitable<void> reader() {
    auto keep = shared_from_this();
    while (state.load() != ConnectionState::closed) {
      auto [ec, n] = co_await socket->async_read_some(asio::buffer(read_buffer),
                                                      asio::as_tuple(asio::use_awaitable));
      if (state.load() == ConnectionState::closed) break;
      if (ec) {
        const bool eof = ec == asio::error::eof || ec == asio::ssl::error::stream_truncated;
        // After a GOAWAY the server closes once it is done: the GOAWAY stays the reason given.
        const bool drained = eof && state.load() == ConnectionState::draining;
        fail(make_error_code(error::connection_lost),
             drained ? std::string() : eof ? "the server closed the connection" : "read: " + ec.message());
        break;
      }
      last_received = Clock::now();
      in_nghttp2 = true;
      const auto rv = nghttp2_session_mem_recv(session, read_buffer.data(), n);
      in_nghttp2 = false;
      if (apply_deferred_failure()) break;
      if (rv < 0) {
        fail(make_error_code(error::protocol),
             std::string("HTTP/2 error: ") + nghttp2_strerror(static_cast<int>(rv)));
        break;
      }
      grant_slots();  // slots freed by closed streams, or the first SETTINGS
      check_drained();
      signal_write();
    }
  }

  asio::awaitable<void> writer() {
    auto keep = shared_from_this();
    while (state.load() != ConnectionState::closed) {
      write_buffer.clear();
      in_nghttp2 = true;
      while (write_buffer.size() < cfg.write_buffer_limit) {
        const uint8_t* data = nullptr;
        const auto n = nghttp2_session_mem_send(session, &data);
        if (n <= 0) {
          if (n < 0) {
            in_nghttp2 = false;
            if (apply_deferred_failure()) co_return;
            fail(make_error_code(error::protocol),
                 std::string("HTTP/2 error: ") + nghttp2_strerror(static_cast<int>(n)));
            co_return;
          }
          break;
        }
        write_buffer.append(reinterpret_cast<const char*>(data), static_cast<size_t>(n));
      }
      in_nghttp2 = false;
      if (apply_deferred_failure()) co_return;
      grant_slots();  // slots of requests that never left
      check_drained();

      if (write_buffer.empty()) {
        if (close_after_flush ||
            (!nghttp2_session_want_read(session) && !nghttp2_session_want_write(session))) {
          fail(make_error_code(error::connection_lost), {});
          co_return;
        }
        writer_waiting = true;
        co_await write_wake.async_wait(asio::as_tuple(asio::use_awaitable));
        writer_waiting = false;
        // One more turn of the event loop before writing: what the handlers queued behind this
        // wake-up submit (results handed over, senders given permits) goes in the same write.
        // Without it a busy pool wrote a few requests per system call (0.4 calls per request,
        // and as many on the server), with it ~0.1.
        co_await asio::post(ex, asio::use_awaitable);
        continue;
      }
      auto [ec, written] = co_await asio::async_write(*socket, asio::buffer(write_buffer),
                                                      asio::as_tuple(asio::use_awaitable));
      if (ec) {
        fail(make_error_code(error::connection_lost), "write: " + ec.message());
        co_return;
      }
      // As after a wake-up: let what is queued behind this completion submit first.
      co_await asio::post(ex, asio::use_awaitable);
    }
  }

  // PINGs when nothing has been received for ping_interval; closes if no ACK comes back.
  asio::awaitable<void> pinger() {
    auto keep = shared_from_this();
    while (state.load() == ConnectionState::ready || state.load() == ConnectionState::draining) {
      ping_timer.expires_at(last_received + cfg.ping_interval);
      co_await ping_timer.async_wait(asio::as_tuple(asio::use_awaitable));
      if (state.load() == ConnectionState::closed) break;
      if (Clock::now() < last_received + cfg.ping_interval) continue;
      if (nghttp2_submit_ping(session, NGHTTP2_FLAG_NONE, nullptr) != 0) break;
      ping_outstanding = true;
      signal_write();
      ping_timer.expires_after(cfg.ping_timeout);
      co_await ping_timer.async_wait(asio::as_tuple(asio::use_awaitable));
      if (state.load() == ConnectionState::closed) break;
      if (ping_outstanding) {
        fail(make_error_code(error::connection_lost),
             "no PING ACK within " + std::to_string(cfg.ping_timeout.count()) + " ms");
        break;
      }
    }
  }

  // Times out streams without a complete response by their deadline: the caller gets
  // error::timeout and the stream a RST_STREAM (APNs sometimes never answers a stream).
  asio::awaitable<void> expire_streams() {
    auto keep = shared_from_this();
    while (state.load() != ConnectionState::closed) {
      timeout_timer.expires_at(streams.next_deadline());
      co_await timeout_timer.async_wait(asio::as_tuple(asio::use_awaitable));
      if (state.load() == ConnectionState::closed) break;
      bool reset = false;
      streams.expire(Clock::now(), [&](Stream& stream) {
        complete(stream, error::timeout);
        nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, stream.id, NGHTTP2_CANCEL);
        reset = true;
      });
      if (reset) signal_write();
    }
  }

  bool valid(const Request& request) {
    const auto valid_header = [](const Header& header) {
      return valid_header_name(header.name) && valid_header_text(header.value);
    };
    if (!std::all_of(request.headers.begin(), request.headers.end(), valid_header)) return false;
    if (request.shared_headers && request.shared_headers != validated_shared) {
      if (!std::all_of(request.shared_headers->begin(), request.shared_headers->end(), valid_header)) return false;
      validated_shared = request.shared_headers;
    }
    return !request.path.empty() && request.path.front() == '/' && valid_header_text(request.path) &&
           !request.method.empty() && valid_header_text(request.method);
  }

  // `request` is only read: the body is copied unless shared, and a request that must wait for
  // a slot is copied whole.
  void submit(const Request& request, ResultHandler done) {
    const ConnectionState now = state.load();
    if (now != ConnectionState::ready && now != ConnectionState::connecting) {
      finish(std::move(done), Result{error::not_processed, {}});
      return;
    }
    if (!valid(request)) {
      finish(std::move(done), Result{error::bad_request, {}});
      return;
    }
    ++inflight;
    if (now == ConnectionState::connecting || !pending.empty() || !can_start_stream()) {
      pending.push_back(PendingRequest{request, std::move(done)});  // first come, first served
      return;
    }
    start_stream(request, std::move(done));
  }

  void start_stream(const Request& request, ResultHandler done) {
    Stream* stream = &streams.open();
    if (request.shared_body) {
      stream->shared_body = request.shared_body;
    } else {
      stream->body = request.body;
    }
    stream->done = std::move(done);

    nva.clear();
    nva.push_back(make_nv(":method", request.method));
    nva.push_back(make_nv(":scheme", "https"));
    nva.push_back(make_nv(":authority", authority));
    nva.push_back(make_nv(":path", request.path, request.unique_path));
    if (request.shared_headers) {
      for (const auto& h : *request.shared_headers) nva.push_back(make_nv(h.name, h.value, h.unique));
    }
    for (const auto& h : request.headers) nva.push_back(make_nv(h.name, h.value, h.unique));
    nghttp2_data_provider body_provider{};
    body_provider.source.ptr = stream;
    body_provider.read_callback = &read_body;

    const int32_t stream_id =
        nghttp2_submit_request(session, nullptr, nva.data(), nva.size(),
                               stream->body_text().empty() ? nullptr : &body_provider, stream);
    if (stream_id < 0) {
      const bool exhausted = stream_id == NGHTTP2_ERR_STREAM_ID_NOT_AVAILABLE;
      finish_accepted(std::exchange(stream->done, nullptr),
                      Result{exhausted ? error::not_processed : error::bad_request, {}});
      release_stream(stream);
      if (exhausted) begin_draining("stream IDs exhausted");
      return;
    }
    stream->id = stream_id;
    const milliseconds timeout = request.timeout.count() > 0 ? request.timeout : cfg.request_timeout;
    if (streams.add_deadline(Clock::now() + timeout, *stream)) timeout_timer.cancel();  // re-arm earlier
    signal_write();
  }

  void shutdown() {
    if (state.load() == ConnectionState::closed) return;
    if (!session || state.load() == ConnectionState::connecting) {
      fail(make_error_code(error::closed), "shut down");
      return;
    }
    if (state.load() == ConnectionState::ready) {
      nghttp2_submit_goaway(session, NGHTTP2_FLAG_NONE, 0, NGHTTP2_NO_ERROR, nullptr, 0);
      begin_draining("shut down by us");
    }
    signal_write();
  }
};

// ---------------------------------------------------------------------------------------

Connection::Connection(asio::any_io_executor executor, ConnectionConfig config,
                       std::shared_ptr<asio::ssl::context> tls)
    : impl_(std::make_shared<Impl>(std::move(executor), std::move(config), std::move(tls))) {}

Connection::~Connection() {
  // The coroutines keep the Impl alive; closing makes them finish. Closing must happen on
  // the executor, like every other state change.
  asio::dispatch(impl_->ex, [impl = impl_] {
    impl->fail(make_error_code(error::connection_lost), "closed by its owner");
  });
}

asio::awaitable<error_code> Connection::connect() {
  const auto caller = co_await asio::this_coro::executor;
  if (caller == impl_->ex) co_return co_await impl_->connect();
  co_return co_await asio::co_spawn(impl_->ex, impl_->connect(), asio::use_awaitable);
}

void Connection::start_request(const Request& request, ResultHandler done) {
  if (common::running_in(impl_->ex)) {
    impl_->submit(request, std::move(done));
    return;
  }
  asio::post(impl_->ex, [impl = impl_, request, done = std::move(done)]() mutable { impl->submit(request, std::move(done)); });
}

void Connection::shutdown() { impl_->shutdown(); }

void Connection::close() {
  impl_->fail(make_error_code(error::connection_lost), "closed by its owner");
}

asio::awaitable<void> Connection::wait_unusable() {
  auto impl = impl_;
  co_await impl->wait_for([&impl] {
    const auto s = impl->state.load();
    return s == ConnectionState::draining || s == ConnectionState::closed;
  });
}

asio::awaitable<void> Connection::wait_closed() {
  auto impl = impl_;
  co_await impl->wait_for([&impl] { return impl->state.load() == ConnectionState::closed; });
}

ConnectionState Connection::state() const { return impl_->state.load(); }
std::size_t Connection::in_flight() const { return impl_->inflight.load(); }
std::uint32_t Connection::max_concurrent_streams() const {
  return impl_->remote_max_streams.load();
}
std::string Connection::last_error_detail() const { return impl_->get_detail(); }
const ConnectionConfig& Connection::config() const { return impl_->cfg; }
const asio::any_io_executor& Connection::executor() const { return impl_->ex; }

}  // namespace pushgw::h2
