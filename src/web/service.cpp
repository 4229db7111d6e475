// The live web endpoints in the style of Beast's coroutine examples: small coroutines, expected
// outcomes (a client that leaves, a cancelled wait) checked through as_tuple.

#include "pushgw/web/service.hpp"

#include <algorithm>
#include <atomic>
#include <deque>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include <unistd.h>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <spdlog/spdlog.h>

#include "pushgw/http/upgrade.hpp"
#include "pushgw/web/channel.hpp"
#include "pushgw/web/client_token.hpp"
#include "pushgw/web/request.hpp"

namespace pushgw::web {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using boost::system::error_code;
using SteadyClock = std::chrono::steady_clock;
using SystemClock = std::chrono::system_clock;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t kBatch = 64;  // SSE events gathered into one write

enum class Transport { sse, ws };
std::string_view label(Transport t) { return t == Transport::sse ? "sse" : "ws"; }

// Why pushgw ends a session (none: the client left).
enum class CloseReason { none, slow, token_expired, shutdown };

std::string_view label(CloseReason r) {
  switch (r) {
    case CloseReason::slow: return "slow";
    case CloseReason::token_expired: return "token_expired";
    case CloseReason::shutdown: return "shutdown";
    case CloseReason::none: break;
  }
  return "none";
}

websocket::close_reason with_code(std::uint16_t code, const char* text) {
  websocket::close_reason reason;
  reason.code = code;
  reason.reason = text;
  return reason;
}

// The WebSocket close codes of DESIGN.md §5.
websocket::close_reason close_reason_of(CloseReason r) {
  switch (r) {
    case CloseReason::slow: return with_code(4408, "too slow: send buffer full");
    case CloseReason::token_expired: return with_code(4401, "token expired");
    case CloseReason::shutdown:
    case CloseReason::none: break;
  }
  return {websocket::close_code::going_away, "server shutting down"};
}

// The connection with its socket moved to `executor` (a shard's thread) from the HTTP
// server's; null when the client has already gone.
std::unique_ptr<http::Upgrade> rehome(std::unique_ptr<http::Upgrade> connection, const asio::any_io_executor& executor) {
  if (connection->stream.get_executor() == executor) return connection;
  asio::ip::tcp::socket socket = connection->stream.release_socket();
  error_code ec;
  const auto protocol = socket.local_endpoint(ec).protocol();
  if (ec) return nullptr;
  const auto fd = socket.release(ec);
  if (ec) return nullptr;
  asio::ip::tcp::socket moved(executor);
  moved.assign(protocol, fd, ec);
  if (ec) {
    ::close(fd);
    return nullptr;
  }
  return std::unique_ptr<http::Upgrade>(
      new http::Upgrade{beast::tcp_stream(std::move(moved)), std::move(connection->buffer), std::move(connection->message)});
}

double seconds_since_published(const Message& m) {
  const auto now_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(SystemClock::now().time_since_epoch()).count();
  return std::max<double>(0.0, static_cast<double>(now_ms) - static_cast<double>(m.id.ms)) / 1000.0;
}

}  // namespace

class LiveSession;

// The sessions of one thread (web.threads; with 0, one shard on the main thread). A session
// lives wholly on its shard's executor: its socket, coroutine, queue and the hub's deliveries.
struct Shard {
  explicit Shard(std::unique_ptr<asio::io_context> own, asio::any_io_executor main)
      : context(std::move(own)), group(context ? context->get_executor() : main) {}
  std::unique_ptr<asio::io_context> context;  // null: the main thread's
  std::thread thread;
  SessionGroup group;
  std::unordered_set<LiveSession*> sessions;  // started and not ended; on group.executor()
};

struct Service::Impl : std::enable_shared_from_this<Service::Impl> {
  std::shared_ptr<Impl> shared_from_this_impl() { return shared_from_this(); }
  Impl(asio::any_io_executor ex, const config::WebConfig& cfg, Hub& h, metrics::PushgwMetrics& m)
      : executor(ex), config(cfg), hub(h), metrics(m), drained(ex) {
    if (config.threads == 0) {
      shards.push_back(std::make_unique<Shard>(nullptr, executor));
      return;
    }
    for (std::size_t i = 0; i < config.threads; ++i) {
      auto& shard = *shards.emplace_back(std::make_unique<Shard>(std::make_unique<asio::io_context>(1), executor));
      guards.push_back(asio::make_work_guard(*shard.context));
      shard.thread = std::thread([context = shard.context.get()] { context->run(); });
    }
  }

  // Ends the shards' threads; what they still held (sessions' coroutines) is destroyed, and
  // touches nothing of the service (detached).
  void stop_threads() {
    guards.clear();
    for (auto& shard : shards) {
      if (!shard->context) continue;
      shard->context->stop();
      if (shard->thread.joinable()) shard->thread.join();
      shard->context.reset();
    }
  }

  asio::any_io_executor executor;  // the main thread's: the hub, the HTTP server, open()
  config::WebConfig config;
  Hub& hub;
  metrics::PushgwMetrics& metrics;
  std::vector<std::unique_ptr<Shard>> shards;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards;
  std::atomic<std::size_t> next_shard{0};
  std::atomic<std::size_t> live{0};  // sessions from their creation until they are forgotten
  // Resolved once: the per-message path looks nothing up.
  std::array<metrics::Counter*, 2> messages_written{&metrics.web_messages.with({"sse"}), &metrics.web_messages.with({"ws"})};
  metrics::Histogram* fanout = &metrics.web_fanout.get();
  std::atomic<bool> stopping{false};
  // The Service (and so the hub) is gone: sessions torn down late touch neither.
  std::atomic<bool> detached{false};
  asio::steady_timer drained;  // on the main thread: cancelled when the last session ends while stopping

  asio::awaitable<std::optional<http::Response>> open(const http::Request& request, http::TakeConnection take,
                                                      Transport transport);
  std::optional<std::string> origin_refusal(const http::Request& request) const;
  void cors(const http::Request& request, http::Headers& headers) const;
};

// One live client: what the hub delivers is queued (bounded by web.send_buffer) and written by
// the session's writer; a reader notices when the client leaves (and, for WebSocket, answers
// pings and close frames).
class LiveSession final : public Session, public std::enable_shared_from_this<LiveSession> {
 public:
  LiveSession(std::shared_ptr<Service::Impl> service, Shard& shard, Transport transport,
              SystemClock::time_point expires, std::vector<std::string> channels)
      : service_(std::move(service)),
        shard_(shard),
        transport_(transport),
        expires_(expires),
        channels_(std::move(channels)),
        wake_(shard.group.executor()) {
    ++service_->live;
  }

  ~LiveSession() override { forget(); }

  const std::vector<std::string>& channels() const { return channels_; }

  // open() joined the hub for this session (on the main thread, before handing it to its shard).
  void joined() { joined_ = true; }
  // The first step of run_sse/run_ws, on the shard's thread.
  void begin() {
    begun_ = true;
    shard_.sessions.insert(this);
    if (service_->stopping) close(CloseReason::shutdown);
  }

  void deliver(const Message& message) override {
    if (closing_) return;
    if (replaying_) {
      held_bytes_ += size_of(message);
      held_.push_back(message);
      if (held_bytes_ > service_->config.send_buffer) close(CloseReason::slow);
      return;
    }
    enqueue(message);
  }

  void close(CloseReason reason) {
    if (closing_) return;
    closing_ = true;
    reason_ = reason;
    wake_.cancel();
    // An event stream has nothing more to say: a write the client is too slow to take is cut
    // off now rather than at its timeout. (A WebSocket gets its close frame after the write;
    // Beast's idle timeout bounds a client that reads nothing at all.)
    if (transport_ == Transport::sse && writing_ && connection_) {
      error_code ignored;
      connection_->stream.socket().cancel(ignored);
    }
  }

  // The messages a resuming client missed, then what the hub delivered meanwhile.
  void end_replay(const std::vector<Message>& missed) {
    replaying_ = false;
    for (const Message& m : missed) enqueue(m);
    for (const Message& m : held_) enqueue(m);
    held_.clear();
    held_.shrink_to_fit();
    held_bytes_ = 0;
  }

  // Leaves the hub and the service's count (once). Normally on the shard's thread; open()'s
  // refusals after the join forget it on the main thread, and the group's part is then queued
  // to the shard (the pointer is only a key there: the session may be gone by then).
  void forget() {
    if (forgotten_) return;
    forgotten_ = true;
    if (service_->detached) return;
    if (joined_) {
      asio::dispatch(shard_.group.executor(), [service = service_, group = &shard_.group,
                                               session = static_cast<Session*>(this), channels = channels_] {
        if (!service->detached) service->hub.leave(session, *group, channels);
      });
    }
    if (begun_) shard_.sessions.erase(this);
    if (--service_->live == 0 && service_->stopping) {
      asio::post(service_->executor, [service = service_] { service->drained.cancel(); });
    }
  }

  static asio::awaitable<void> run_sse(std::shared_ptr<LiveSession> self, std::unique_ptr<http::Upgrade> connection,
                                       std::string head, std::vector<Message> missed);

  // The readers are completion handlers, not coroutines: a second coroutine per session would
  // cost its own frames (memory per idle client). An SSE client sends nothing: a read that ends
  // means it left. A WebSocket read lets Beast answer pings and close frames; messages are
  // dropped (clients have nothing to say).
  static void read_sse(std::shared_ptr<LiveSession> self) {
    auto& socket = self->connection_->stream.socket();  // not the stream: its write timeout must not end this
    socket.async_read_some(asio::buffer(self->sink_), [self](error_code ec, std::size_t) {
      if (!ec) return read_sse(self);
      self->client_left();
    });
  }
  static void read_ws(std::shared_ptr<LiveSession> self) {
    // read_some into a few bytes: a dynamic buffer would be given a read's worth of memory
    // while the read waits, for every idle client.
    self->ws_->async_read_some(asio::buffer(self->sink_), [self](error_code ec, std::size_t) {
      if (!ec) return read_ws(self);
      self->client_left();
    });
  }
  void client_left() {
    client_gone_ = true;
    closing_ = true;
    wake_.cancel();
  }
  static asio::awaitable<void> run_ws(std::shared_ptr<LiveSession> self, std::unique_ptr<http::Upgrade> connection,
                                      std::vector<Message> missed);

 private:
  std::size_t size_of(const Message& m) const { return transport_ == Transport::sse ? m.sse().size() : m.json->size(); }

  void enqueue(const Message& message) {
    if (closing_) return;
    // Per channel, only newer than what this session already has: the seam between the
    // history it replayed and the live messages it held.
    auto [it, added] = last_.try_emplace(message.channel, message.id);
    if (!added) {
      if (message.id <= it->second) return;
      it->second = message.id;
    }
    if (queue_.empty() && try_write_now(message)) return;
    const std::size_t bytes = size_of(message);
    if (queued_bytes_ + bytes > service_->config.send_buffer) {
      close(CloseReason::slow);
      return;
    }
    queued_bytes_ += bytes;
    queue_.push_back(message);
    if (transport_ == Transport::sse) wake_.cancel();  // a WebSocket's write chain takes it (write_ws)
  }

  // Until there is something to write, the session closes, or a ping or the token's expiry is due.
  asio::awaitable<void> wait() {
    if ((transport_ == Transport::sse && !queue_.empty()) || closing_) co_return;
    // Beast pings WebSocket clients itself; SSE heartbeats are ours.
    const auto ping_due = transport_ == Transport::sse ? last_write_ + service_->config.ping_interval
                                                       : SteadyClock::time_point::max();
    const auto left = std::clamp<SystemClock::duration>(expires_ - SystemClock::now(), SystemClock::duration::zero(),
                                                        std::chrono::hours(24));
    const auto expiry = SteadyClock::now() + std::chrono::duration_cast<SteadyClock::duration>(left);
    wake_.expires_at(std::min(ping_due, expiry));
    co_await wake_.async_wait(use_tuple);
  }

  bool token_expired() const { return SystemClock::now() >= expires_; }

  void written(const Message& m, bool was_queued = true) {
    if (was_queued) queued_bytes_ -= size_of(m);
    service_->messages_written[static_cast<int>(transport_)]->inc();
    service_->fanout->observe(seconds_since_published(m));
  }

  // SSE, nothing queued and no write under way: the event straight to the socket (non-blocking),
  // without waking the session's coroutine, the cost that dominates a fan-out to many clients.
  // What the socket does not take now is queued, its first `front_offset_` bytes sent.
  bool try_write_now(const Message& m) {
    if (!streaming_ || writing_) return false;
    if (transport_ == Transport::ws) {
      write_ws(m);
      return true;
    }
    const std::string& text = m.sse();
    error_code ec;
    const std::size_t n = connection_->stream.socket().write_some(asio::buffer(text), ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again || (!ec && n < text.size())) {
      front_offset_ = ec ? 0 : n;
      return false;  // queued by the caller, written by the coroutine from front_offset_
    }
    if (ec) {
      client_left();
      return true;
    }
    last_write_ = SteadyClock::now();
    written(m, false);
    return true;
  }

  // WebSocket: Beast's write of one message, started where the message arrives rather than by
  // waking the session's coroutine; its completion starts the next queued one. (Beast orders
  // its own pings and the close frame after a write under way.) The message being written no
  // longer counts in queued_bytes_: once the socket has taken it, only its completion is due.
  void write_ws(Message m) {
    writing_ = true;
    const auto text = asio::buffer(*m.json);
    ws_->async_write(text, [self = shared_from_this(), m = std::move(m)](error_code ec, std::size_t) {
      self->writing_ = false;
      if (ec) {
        self->client_left();
        return;
      }
      self->last_write_ = SteadyClock::now();
      self->written(m, false);
      if (self->closing_ || self->queue_.empty()) return;
      Message next = std::move(self->queue_.front());
      self->queue_.pop_front();
      self->queued_bytes_ -= self->size_of(next);
      self->write_ws(std::move(next));
    });
  }

  void started() {
    service_->metrics.web_connections.with({label(transport_)}).inc();
    counted_ = true;
  }

  void ended() {
    if (counted_) service_->metrics.web_connections.with({label(transport_)}).dec();
    if (reason_ != CloseReason::none) service_->metrics.web_dropped.with({label(reason_)}).inc();
    forget();
  }

  std::shared_ptr<Service::Impl> service_;
  Shard& shard_;
  Transport transport_;
  SystemClock::time_point expires_;
  std::vector<std::string> channels_;
  asio::steady_timer wake_;
  std::deque<Message> queue_;
  std::size_t queued_bytes_ = 0;
  std::unordered_map<std::string, StreamId> last_;  // per channel: the newest message queued
  bool replaying_ = true;
  std::vector<Message> held_;
  std::size_t held_bytes_ = 0;
  bool closing_ = false;
  CloseReason reason_ = CloseReason::none;
  bool forgotten_ = false;
  bool joined_ = false;
  bool begun_ = false;  // on its shard's thread
  bool counted_ = false;
  SteadyClock::time_point last_write_ = SteadyClock::now();
  bool client_gone_ = false;
  bool streaming_ = false;       // the response head is out (SSE) / the handshake done (WebSocket): writes may start from enqueue()
  bool writing_ = false;         // a write is under way (SSE: the coroutine's; WebSocket: write_ws's)
  std::size_t front_offset_ = 0; // SSE: bytes of the first queued event already sent
  std::array<char, 16> sink_{};  // what a client sends anyway (dropped)
  std::unique_ptr<http::Upgrade> connection_;                           // SSE
  std::unique_ptr<websocket::stream<beast::tcp_stream>> ws_;            // WebSocket
};

// ---- Server-Sent Events ----

asio::awaitable<void> LiveSession::run_sse(std::shared_ptr<LiveSession> self, std::unique_ptr<http::Upgrade> connection,
                                           std::string head, std::vector<Message> missed) {
  self->begin();
  // The connection belongs to the session: the reader below may outlive this coroutine.
  self->connection_ = std::move(connection);
  // Only the socket is needed from here: the request and its buffer go (memory per client).
  self->connection_->message = {};
  self->connection_->buffer = beast::flat_buffer();
  beast::tcp_stream& stream = self->connection_->stream;
  const auto write_timeout = std::max<std::chrono::milliseconds>(2 * self->service_->config.ping_interval,
                                                                 std::chrono::seconds(10));
  self->started();
  self->end_replay(missed);
  missed.clear();

  stream.expires_after(write_timeout);
  auto [head_ec, head_n] = co_await asio::async_write(stream, asio::buffer(head), use_tuple);
  (void)head_n;
  // The client sends nothing on an event stream: a read that ends means it left. On the socket,
  // not the stream: the stream's write timeout must not end it.
  if (!head_ec) {
    error_code ignored;
    stream.socket().non_blocking(true, ignored);  // for try_write_now()
    self->streaming_ = true;
  }
  read_sse(self);

  error_code ec = head_ec;
  std::vector<Message> batch;
  std::vector<asio::const_buffer> buffers;
  static const std::string ping = ": ping\n\n";
  while (!ec) {
    co_await self->wait();
    if (self->closing_) break;
    if (self->token_expired()) {
      self->close(CloseReason::token_expired);
      break;
    }
    batch.clear();
    buffers.clear();
    while (!self->queue_.empty() && batch.size() < kBatch) {
      batch.push_back(std::move(self->queue_.front()));
      self->queue_.pop_front();
    }
    for (const Message& m : batch) buffers.push_back(asio::buffer(m.sse()));
    if (!buffers.empty() && self->front_offset_ > 0) {
      buffers.front() += self->front_offset_;  // the part try_write_now() sent already
      self->front_offset_ = 0;
    }
    if (batch.empty()) {
      if (SteadyClock::now() < self->last_write_ + self->service_->config.ping_interval) continue;
      buffers.push_back(asio::buffer(ping));
    }
    stream.expires_after(write_timeout);
    self->writing_ = true;
    auto [write_ec, n] = co_await asio::async_write(stream, buffers, use_tuple);
    self->writing_ = false;
    (void)n;
    ec = write_ec;
    if (ec) break;
    self->last_write_ = SteadyClock::now();
    for (const Message& m : batch) self->written(m);
  }
  // An event stream ends by closing the connection; EventSource reconnects by itself.
  error_code ignored;
  stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  stream.socket().close(ignored);
  self->ended();
}

// ---- WebSocket ----

asio::awaitable<void> LiveSession::run_ws(std::shared_ptr<LiveSession> self, std::unique_ptr<http::Upgrade> connection,
                                          std::vector<Message> missed) {
  self->begin();
  self->ws_ = std::make_unique<websocket::stream<beast::tcp_stream>>(std::move(connection->stream));
  auto& ws = *self->ws_;
  beast::get_lowest_layer(ws).expires_never();  // the websocket's own timeouts apply
  websocket::stream_base::timeout timeouts{};
  timeouts.handshake_timeout = std::chrono::seconds(10);
  timeouts.idle_timeout = 2 * self->service_->config.ping_interval;  // a ping after ping_interval of silence
  timeouts.keep_alive_pings = true;
  ws.set_option(timeouts);
  ws.read_message_max(4096);  // clients have nothing to say
  ws.text(true);
  ws.set_option(websocket::stream_base::decorator(
      [](websocket::response_type& res) { res.set(beast::http::field::server, "pushgw"); }));
  auto [accept_ec] = co_await ws.async_accept(connection->message, use_tuple);
  connection.reset();
  if (accept_ec) {
    self->ended();
    co_return;
  }
  self->started();
  self->streaming_ = true;  // messages are written by write_ws() from here on
  self->end_replay(missed);
  missed.clear();

  // Reads (and drops) what the client sends; Beast answers its pings and close frames here.
  read_ws(self);

  // The coroutine only waits for the end: the client leaving, a slow client, the token's
  // expiry, shutdown. Beast sends the pings.
  while (true) {
    co_await self->wait();
    if (self->closing_) break;
    if (self->token_expired()) {
      self->close(CloseReason::token_expired);
      break;
    }
  }
  if (!self->client_gone_ && ws.is_open()) {
    // A close frame with the reason, bounded in time: a client too slow to read may never
    // take it.
    asio::steady_timer deadline(ws.get_executor());
    deadline.expires_after(std::chrono::seconds(2));
    deadline.async_wait([self](error_code ec) {
      if (!ec) beast::get_lowest_layer(*self->ws_).close();
    });
    co_await ws.async_close(close_reason_of(self->reason_), use_tuple);
    deadline.cancel();
  }
  beast::get_lowest_layer(ws).close();
  self->ended();
}

// ---- opening a session ----

std::optional<std::string> Service::Impl::origin_refusal(const http::Request& request) const {
  const auto origin = request.header("origin");
  if (!origin || origin_allowed(*origin, config.allowed_origins)) return std::nullopt;
  return "origin " + std::string(*origin) + " is not in web.allowed_origins";
}

void Service::Impl::cors(const http::Request& request, http::Headers& headers) const {
  const auto origin = request.header("origin");
  if (!origin) return;
  headers.emplace_back("Access-Control-Allow-Origin", config.allowed_origins.empty() ? "*" : std::string(*origin));
  headers.emplace_back("Vary", "Origin");
}

asio::awaitable<std::optional<http::Response>> Service::Impl::open(const http::Request& request,
                                                                   http::TakeConnection take, Transport transport) {
  auto refuse = [&](int status, std::string message) {
    http::Response r = http::Response::error(status, message);
    if (transport == Transport::sse) cors(request, r.headers);
    if (status == 401) r.headers.emplace_back("WWW-Authenticate", "Bearer");
    if (status == 503) r.headers.emplace_back("Retry-After", "1");
    return std::optional<http::Response>(std::move(r));
  };
  if (stopping) co_return refuse(503, "shutting down");
  if (auto why = origin_refusal(request)) co_return refuse(403, *why);

  const auto opening = parse_opening(request, transport == Transport::sse ? Resume::sse : Resume::ws);
  if (!opening.ok()) co_return refuse(opening.status, opening.message);
  const auto token = verify_client_token(opening.token, config.secret, SystemClock::now());
  if (!token.ok()) co_return refuse(401, token.message);
  auto channels = select_channels(opening.channels, token.value());
  if (!channels.ok()) co_return refuse(channels.status, channels.message);
  if (live >= config.max_connections) {
    co_return refuse(503, "too many live connections (web.max_connections " +
                              std::to_string(config.max_connections) + ")");
  }

  auto self = shared_from_this_impl();
  Shard& shard = *shards[next_shard++ % shards.size()];
  auto session = std::make_shared<LiveSession>(self, shard, transport, token.value().expires, channels.value());
  if (error_code ec = co_await hub.join(session.get(), shard.group, session->channels())) {
    session->forget();
    co_return refuse(503, "cannot subscribe to the channels: Redis " + ec.message());
  }
  session->joined();
  std::vector<Message> missed;
  if (opening.resume) {
    ReplayResult replay = co_await hub.replay(session->channels(), *opening.resume);
    if (replay.ec) {
      session->forget();
      co_return refuse(503, "cannot read the channels' history: Redis " + replay.ec.message());
    }
    if (replay.gap) {
      session->forget();
      co_return refuse(400, "last event id " + opening.resume->to_string() +
                                " is older than the channels' history (web.history): messages were missed; "
                                "reconnect without it");
    }
    missed = std::move(replay.messages);
  }
  if (stopping) {
    session->forget();
    co_return refuse(503, "shutting down");
  }

  if (transport == Transport::sse) {
    std::string head =
        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
        "X-Accel-Buffering: no\r\nConnection: close\r\n";
    http::Headers extra;
    cors(request, extra);
    for (const auto& [name, value] : extra) head += name + ": " + value + "\r\n";
    head += "\r\n";
    head += sse_retry(2000);
    auto connection = rehome(take(200), shard.group.executor());
    if (!connection) co_return std::nullopt;  // the client left already
    asio::co_spawn(shard.group.executor(),
                   LiveSession::run_sse(session, std::move(connection), std::move(head), std::move(missed)),
                   asio::detached);
  } else {
    auto connection = rehome(take(101), shard.group.executor());
    if (!connection) co_return std::nullopt;
    asio::co_spawn(shard.group.executor(), LiveSession::run_ws(session, std::move(connection), std::move(missed)),
                   asio::detached);
  }
  co_return std::nullopt;
}

// ---- Service ----

Service::Service(asio::any_io_executor executor, const config::WebConfig& config, Hub& hub,
                 metrics::PushgwMetrics& metrics)
    : impl_(std::make_shared<Impl>(executor, config, hub, metrics)) {
  for (const char* transport : {"sse", "ws"}) metrics.web_connections.with({transport}).set(0);
}

Service::~Service() {
  impl_->detached = true;
  impl_->stop_threads();
}

std::size_t Service::connections() const { return impl_->live; }

std::vector<http::Route> Service::routes() {
  std::vector<http::Route> routes;
  http::Route events;
  events.method = "GET";
  events.path = "/events";
  events.upgrade = [impl = impl_](const http::Request& r, http::TakeConnection take) {
    return impl->open(r, std::move(take), Transport::sse);
  };
  routes.push_back(std::move(events));

  http::Route preflight;  // a fetch() with an Authorization header asks first
  preflight.method = "OPTIONS";
  preflight.path = "/events";
  preflight.handler = [impl = impl_](const http::Request& r) -> asio::awaitable<http::Response> {
    if (auto why = impl->origin_refusal(r)) co_return http::Response::error(403, *why);
    http::Response response;
    response.status = 204;
    response.content_type.clear();
    impl->cors(r, response.headers);
    response.headers.emplace_back("Access-Control-Allow-Methods", "GET");
    response.headers.emplace_back("Access-Control-Allow-Headers", "Authorization, Last-Event-ID");
    response.headers.emplace_back("Access-Control-Max-Age", "600");
    co_return response;
  };
  routes.push_back(std::move(preflight));

  http::Route ws;
  ws.method = "GET";
  ws.path = "/ws";
  ws.upgrade = [impl = impl_](const http::Request& r, http::TakeConnection take) {
    return impl->open(r, std::move(take), Transport::ws);
  };
  routes.push_back(std::move(ws));
  return routes;
}

asio::awaitable<void> Service::shutdown(std::chrono::milliseconds deadline) {
  impl_->stopping = true;
  if (impl_->live == 0) co_return;
  // Each shard closes its own; the last session to end wakes this (forget()).
  for (auto& shard : impl_->shards) {
    asio::dispatch(shard->group.executor(), [shard = shard.get()] {
      const std::vector<LiveSession*> sessions(shard->sessions.begin(), shard->sessions.end());
      for (LiveSession* session : sessions) session->close(CloseReason::shutdown);
    });
  }
  impl_->drained.expires_after(deadline);
  co_await impl_->drained.async_wait(use_tuple);
}

}  // namespace pushgw::web
