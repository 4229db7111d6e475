// The Redis client: one owner coroutine per connection (connect, handshake, then a writer and
// a reader running side by side), callers queue requests and wait on a timer used as a
// condition variable. Every member of Impl is touched only on the client's executor, except
// the two that say otherwise.

#include "pushgw/redis/client.hpp"

#include "cluster.hpp"

#include "pushgw/common/error_category.hpp"

#include <algorithm>
#include <charconv>
#include <array>
#include <atomic>
#include <cmath>
#include <deque>
#include <exception>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <variant>

#include <boost/asio.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/experimental/channel.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "pushgw/common/backoff.hpp"
#include "pushgw/redis/tls.hpp"

namespace pushgw::redis {

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;
using namespace asio::experimental::awaitable_operators;

namespace {

constexpr asio::as_tuple_t<asio::use_awaitable_t<>> use_tuple{};

const char* describe(error e) {
  switch (e) {
    case error::not_connected: return "not connected to Redis (the request was not sent)";
    case error::timeout: return "no reply from Redis within the command timeout";
    case error::connection_lost: return "connection to Redis lost while waiting for the reply";
    case error::protocol: return "Redis sent data that is not valid RESP";
    case error::auth_failed: return "Redis refused AUTH or SELECT";
    case error::tls_failed: return "TLS handshake with Redis failed";
    case error::sentinel_failed: return "no sentinel gave the Redis master's address";
    case error::cluster_failed: return "Redis Cluster's slot map is not known";
    case error::not_master: return "the Redis server is a replica, not the master";
    case error::stopped: return "Redis client stopped";
    case error::unexpected_reply: return "unexpected reply from Redis";
  }
  return nullptr;
}

// "host:port" (IPv6 in brackets).
std::string host_port_text(const config::HostPort& server) {
  const bool ipv6 = server.host.find(':') != std::string::npos;
  return ipv6 ? fmt::format("[{}]:{}", server.host, server.port) : fmt::format("{}:{}", server.host, server.port);
}

// "host:port/db", or in Sentinel mode "master <name>" until a sentinel has named it, for log
// lines (never the credentials).
std::string describe(const ClientConfig& config, const config::HostPort* master = nullptr) {
  const auto& endpoint = config.endpoint;
  if (config.sentinels.empty()) return fmt::format("{}/{}", host_port_text({endpoint.host, endpoint.port}), endpoint.db);
  if (!master) return "master " + config.sentinel_master;
  return fmt::format("master {} at {}/{}", config.sentinel_master, host_port_text(*master), endpoint.db);
}

// A message pushed to a subscriber, as opposed to the reply to a command.
bool is_push(const Reply& reply) {
  if (reply.type != Reply::Type::array || reply.elements.size() != 3) return false;
  const Reply& kind = reply.elements[0];
  return kind.type == Reply::Type::string && (kind.str == "message" || kind.str == "smessage");
}

bool is_auth_error(const Reply& reply) {
  return reply.is_error() &&
         (reply.str.starts_with("NOAUTH") || reply.str.starts_with("WRONGPASS"));
}

}  // namespace

const boost::system::error_category& error_category() { return common::category_of<error>("pushgw.redis", describe); }

ClientConfig client_config(const config::Config& cfg, std::string name) {
  std::string error;
  auto endpoint = config::parse_redis_url(cfg.redis.url, &error, config::HostRequired::no);
  if (!endpoint) throw std::invalid_argument("redis.url: " + error);  // validated at load
  ClientConfig out;
  out.endpoint = *endpoint;
  out.connect_timeout = cfg.redis.connect_timeout;
  out.command_timeout = cfg.redis.command_timeout;
  out.reconnect_min = cfg.redis.reconnect_min;
  out.reconnect_max = cfg.redis.reconnect_max;
  out.name = std::move(name);
  if (endpoint->tls) {
    std::string why;
    out.tls = make_tls_context(cfg.redis.tls, &why);
    if (!out.tls) throw std::invalid_argument(why);
    out.tls_server_name = cfg.redis.tls.server_name;
  }
  out.sentinels = cfg.redis.sentinel.nodes;
  out.sentinel_master = cfg.redis.sentinel.master;
  out.cluster_nodes = cfg.redis.cluster.nodes;
  return out;
}

std::chrono::milliseconds reconnect_delay(const ClientConfig& config, unsigned attempt,
                                          double jitter) {
  // Jitter only shortens a reconnect delay: never wait longer than reconnect_max.
  const common::Backoff backoff{config.reconnect_min, config.reconnect_max, 0.5, 1.0};
  return backoff.delay(std::min(attempt, 60U) + 1, jitter);
}

namespace {

// One exec() call: what to send, what came back, and the timer its caller sleeps on.
struct PendingRequest {
  PendingRequest(const asio::any_io_executor& executor, std::shared_ptr<const Request> request)
      : request(std::move(request)), wake(executor) {}

  std::shared_ptr<const Request> request;
  std::vector<Reply> replies;
  std::size_t received = 0;    // replies read so far (also counted once the caller has gone)
  error_code ec;
  bool sent = false;           // handed to the writer: its replies come on this connection
  bool done = false;           // outcome decided; the caller is woken or has gone
  asio::steady_timer wake;     // expires at the command deadline; cancelled on completion
};

using PendingPtr = std::shared_ptr<PendingRequest>;

}  // namespace

struct Client::Impl : std::enable_shared_from_this<Client::Impl> {
  Impl(asio::any_io_executor executor_in, ClientConfig config_in)
      : executor(std::move(executor_in)),
        config(std::move(config_in)),
        endpoint_text(describe(config)),
        socket(executor),
        resolver(executor),
        connect_watchdog(executor),
        backoff_timer(executor),
        writer_wakeup(executor, 1),
        jitter_source(std::random_device{}()) {
    server_text = endpoint_text;
  }

  asio::any_io_executor executor;
  ClientConfig config;
  std::string endpoint_text;

  tcp::socket socket;
  std::optional<asio::ssl::stream<tcp::socket&>> tls_stream;   // over `socket`, for rediss://
  tcp::resolver resolver;
  asio::steady_timer connect_watchdog;   // bounds resolve + connect + handshake
  asio::steady_timer backoff_timer;
  asio::experimental::channel<void(error_code)> writer_wakeup;

  std::deque<PendingPtr> write_queue;    // accepted, not yet handed to the writer
  std::deque<PendingPtr> reply_queue;    // written, waiting for replies in FIFO order
  std::string write_buffer;              // every queued payload, for one write
  std::array<char, 64 * 1024> read_buffer{};
  ReplyParser parser;

  bool started = false;
  bool stopping = false;
  std::size_t sentinel_first = 0;        // the sentinel to ask first: the last that answered
  unsigned connect_generation = 0;       // tells a stale watchdog expiry from the current one
  bool connect_timed_out = false;
  error_code drop_reason;                // why the current connection is being dropped
  std::minstd_rand jitter_source;

  std::atomic<bool> is_connected{false};   // read from any thread
  mutable std::mutex last_error_mutex;     // guards last_error, read from any thread
  error_code last_error;
  std::string last_error_text;             // last_error with what the server said, for /readyz
  std::string server_text;                 // endpoint_text, for server()
  std::string failure_detail;              // this attempt's reason in words (TLS, AUTH), on our executor

  std::string error_text() const {
    std::lock_guard lock(last_error_mutex);
    return last_error_text;
  }

  void set_endpoint_text(std::string text) {
    endpoint_text = std::move(text);
    std::lock_guard lock(last_error_mutex);
    server_text = endpoint_text;
  }

  void set_last_error(error_code ec) {
    std::lock_guard lock(last_error_mutex);
    last_error = ec;
    last_error_text = !ec ? std::string() : failure_detail.empty() ? ec.message() : ec.message() + ": " + failure_detail;
    failure_detail.clear();
  }

  void wake_writer() { writer_wakeup.try_send(error_code{}); }

  static void complete(PendingRequest& op, error_code ec) {
    if (op.done) {
      return;
    }
    op.done = true;
    op.ec = ec;
    if (ec) {
      op.replies.clear();
    }
    op.wake.cancel();
  }

  // Unsent requests were never on the wire (not_connected: safe to retry); written ones may
  // have run (connection_lost, or whatever `sent_error` says).
  void fail_all(error_code unsent_error, error_code sent_error) {
    for (auto& op : reply_queue) {
      complete(*op, sent_error);
    }
    for (auto& op : write_queue) {
      complete(*op, unsent_error);
    }
    reply_queue.clear();
    write_queue.clear();
  }

  // Makes the reader and writer of the current connection give up; the owner coroutine then
  // fails what is pending and reconnects.
  void drop_connection(error_code reason) {
    if (!drop_reason) {
      drop_reason = reason;
    }
    is_connected = false;
    error_code ignored;
    socket.close(ignored);
  }

  void shutdown() {
    if (stopping) {
      return;
    }
    stopping = true;
    is_connected = false;
    error_code ignored;
    socket.close(ignored);
    resolver.cancel();
    connect_watchdog.cancel();
    backoff_timer.cancel();
    writer_wakeup.cancel();
    fail_all(error::stopped, error::stopped);
    if (started) {
      spdlog::info("redis: client for {} stopped", endpoint_text);
    }
  }

  // The error an I/O step ends with once stop() or the connect watchdog has had its say.
  error_code connect_step(error_code ec) const {
    if (stopping) {
      return error::stopped;
    }
    if (connect_timed_out) {
      return asio::error::timed_out;
    }
    return ec;
  }

  // The connection's bytes go through TLS for rediss://, else straight to the socket. Closing
  // the socket ends either.
  asio::awaitable<std::tuple<error_code, std::size_t>> read_some(asio::mutable_buffer buffer) {
    return tls_stream ? tls_stream->async_read_some(buffer, use_tuple)
                      : socket.async_read_some(buffer, use_tuple);
  }
  asio::awaitable<std::tuple<error_code, std::size_t>> write_all(asio::const_buffer buffer) {
    return tls_stream ? asio::async_write(*tls_stream, buffer, use_tuple)
                      : asio::async_write(socket, buffer, use_tuple);
  }

  // Writes `hello` on the fresh connection and reads its replies (before the reader starts).
  asio::awaitable<error_code> exchange(const Request& hello, std::vector<Reply>& replies) {
    auto [write_ec, written] = co_await write_all(asio::buffer(hello.payload()));
    (void)written;
    if (error_code ec = connect_step(write_ec)) {
      co_return ec;
    }
    while (replies.size() < hello.size()) {
      auto [read_ec, n] = co_await read_some(asio::buffer(read_buffer));
      if (error_code ec = connect_step(read_ec)) {
        co_return ec;
      }
      parser.feed({read_buffer.data(), n});
      while (replies.size() < hello.size()) {
        std::optional<Reply> reply = parser.next();
        if (!reply) {
          break;
        }
        replies.push_back(std::move(*reply));
      }
      if (parser.failed()) {
        spdlog::error("redis: invalid reply from {} during handshake: {}", endpoint_text,
                      parser.error());
        co_return error::protocol;
      }
    }
    co_return error_code{};
  }

  // AUTH, SELECT and CLIENT SETNAME, checked one by one.
  asio::awaitable<error_code> handshake() {
    const config::RedisEndpoint& endpoint = config.endpoint;
    Request hello;
    enum class Step { auth, select, setname, ping, role };
    std::vector<Step> steps;
    if (!endpoint.password.empty()) {
      if (endpoint.username.empty()) {
        hello.push("AUTH", endpoint.password);
      } else {
        hello.push("AUTH", endpoint.username, endpoint.password);
      }
      steps.push_back(Step::auth);
    }
    if (endpoint.db != 0) {
      hello.push("SELECT", std::to_string(endpoint.db));
      steps.push_back(Step::select);
    }
    if (!config.name.empty()) {
      hello.push("CLIENT", "SETNAME", config.name);
      steps.push_back(Step::setname);
    }
    if (!config.sentinels.empty()) {
      hello.push("ROLE");  // a sentinel may still name a master that has become a replica
      steps.push_back(Step::role);
    }
    if (steps.empty()) {
      hello.push("PING");  // proves that a Redis server answers before we say connected
      steps.push_back(Step::ping);
    }

    std::vector<Reply> replies;
    if (error_code ec = co_await exchange(hello, replies)) {
      co_return ec;
    }
    for (std::size_t i = 0; i < steps.size(); ++i) {
      const Reply& reply = replies[i];
      if (steps[i] == Step::role && !reply.is_error()) {
        const bool master = reply.type == Reply::Type::array && !reply.elements.empty() &&
                            reply.elements[0].str == "master";
        if (!master) {
          failure_detail = endpoint_text + " is not the master (ROLE " +
                           (reply.elements.empty() ? std::string("?") : reply.elements[0].str) + ")";
          spdlog::warn("redis: {}; a failover may be under way, asking the sentinels again", failure_detail);
          co_return error::not_master;
        }
        continue;
      }
      if (!reply.is_error()) {
        continue;
      }
      switch (steps[i]) {
        case Step::auth:
          spdlog::error("redis: AUTH{} refused by {}: {}",
                        endpoint.username.empty() ? "" : " as " + endpoint.username,
                        endpoint_text, reply.str);
          failure_detail = reply.str;
          co_return error::auth_failed;
        case Step::select:
          spdlog::error("redis: SELECT {} refused by {}: {}", endpoint.db, endpoint_text,
                        reply.str);
          failure_detail = reply.str;
          co_return error::auth_failed;
        case Step::setname:
        case Step::ping:
        case Step::role:
          if (is_auth_error(reply)) {
            spdlog::error("redis: {} requires a password: {}", endpoint_text, reply.str);
            failure_detail = reply.str;
            co_return error::auth_failed;
          }
          // A name Redis rejects (e.g. one with spaces) is not worth failing over.
          spdlog::warn("redis: {} refused CLIENT SETNAME {}: {}", endpoint_text, config.name,
                       reply.str);
          break;
      }
    }
    co_return error_code{};
  }

  asio::awaitable<error_code> connect() {
    drop_reason = {};
    connect_timed_out = false;
    const unsigned generation = ++connect_generation;
    connect_watchdog.expires_after(config.connect_timeout);
    connect_watchdog.async_wait([self = shared_from_this(), generation](error_code ec) {
      if (ec || generation != self->connect_generation) {
        return;  // cancelled, or an expiry that was already queued when the attempt ended
      }
      self->connect_timed_out = true;
      self->resolver.cancel();
      error_code ignored;
      self->socket.close(ignored);
    });

    error_code result = co_await open_and_handshake();
    connect_watchdog.cancel();
    ++connect_generation;
    co_return result;
  }

  // Connects the socket to `server`, through TLS for rediss://.
  asio::awaitable<error_code> open(const config::HostPort& server) {
    tls_stream.reset();  // a TLS session does not survive its connection
    parser = ReplyParser{};
    auto [resolve_ec, endpoints] = co_await resolver.async_resolve(server.host, std::to_string(server.port), use_tuple);
    if (error_code ec = connect_step(resolve_ec)) {
      co_return ec;
    }
    auto [connect_ec, peer] = co_await asio::async_connect(socket, endpoints, use_tuple);
    (void)peer;
    if (error_code ec = connect_step(connect_ec)) {
      co_return ec;
    }
    error_code option_ec;
    socket.set_option(tcp::no_delay(true), option_ec);  // requests are small and pipelined
    socket.set_option(asio::socket_base::keep_alive(true), option_ec);
    if (config.tls) {
      co_return co_await tls_handshake(config.tls_server_name.empty() ? server.host : config.tls_server_name);
    }
    co_return error_code{};
  }

  // Asks the sentinels, the last one that answered first, where the master is. Each gets a
  // connection of its own (TLS too for rediss://), closed after its answer.
  asio::awaitable<std::optional<config::HostPort>> ask_sentinels() {
    const std::vector<config::HostPort>& nodes = config.sentinels;
    std::string problems;
    for (std::size_t i = 0; i < nodes.size(); ++i) {
      const std::size_t index = (sentinel_first + i) % nodes.size();
      const std::string where = "sentinel " + host_port_text(nodes[index]);
      std::vector<Reply> replies;
      error_code ec = co_await open(nodes[index]);
      if (!ec) {
        Request ask;
        ask.push("SENTINEL", "get-master-addr-by-name", config.sentinel_master);
        ec = co_await exchange(ask, replies);
      }
      error_code ignored;
      socket.close(ignored);
      if (stopping || connect_timed_out) {
        co_return std::nullopt;
      }
      std::string problem;
      if (ec) {
        problem = where + ": " + (failure_detail.empty() ? ec.message() : failure_detail);
        failure_detail.clear();
      } else if (const Reply& reply = replies.at(0); reply.is_nil()) {
        problem = where + " knows no master named " + config.sentinel_master;
      } else if (reply.is_error()) {
        problem = where + " answered " + reply.str;
      } else if (reply.type == Reply::Type::array && reply.elements.size() == 2) {
        const std::string& port_text = reply.elements[1].str;
        unsigned port = 0;
        const auto [end, parse_ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
        if (parse_ec == std::errc() && end == port_text.data() + port_text.size() && port >= 1 && port <= 65535 &&
            !reply.elements[0].str.empty()) {
          sentinel_first = index;
          co_return config::HostPort{reply.elements[0].str, static_cast<std::uint16_t>(port)};
        }
        problem = where + " sent an address that is not host and port";
      } else {
        problem = where + " sent an unexpected reply to SENTINEL get-master-addr-by-name";
      }
      problems += (problems.empty() ? "" : "; ") + problem;
    }
    failure_detail = problems;
    co_return std::nullopt;
  }

  asio::awaitable<error_code> open_and_handshake() {
    config::HostPort server{config.endpoint.host, config.endpoint.port};
    if (!config.sentinels.empty()) {
      std::optional<config::HostPort> master = co_await ask_sentinels();
      if (!master) {
        co_return connect_step(error::sentinel_failed);
      }
      server = std::move(*master);
      set_endpoint_text(describe(config, &server));
    }
    if (error_code ec = co_await open(server)) {
      co_return ec;
    }
    error_code ec = co_await handshake();
    if (ec && tls_stream && ec != error::stopped && ec != asio::error::timed_out &&
        (ec.category() == asio::error::get_ssl_category() ||
         ec.category() == asio::ssl::error::get_stream_category() || ec == asio::error::connection_reset ||
         ec == asio::error::eof)) {
      // With TLS 1.3 a server refuses the client's certificate (or its absence) only after
      // the handshake: the first read gets an alert, or Redis just closes the connection.
      spdlog::error("redis: TLS connection to {} refused after the handshake: {} (a server that checks client "
                    "certificates needs one it trusts in redis.tls.cert_file and key_file)",
                    endpoint_text, ec.message());
      failure_detail = "refused after the handshake (" + ec.message() + "); is a client certificate required?";
      co_return error::tls_failed;
    }
    co_return ec;
  }

  // TLS over the fresh socket: SNI, then the certificate checked against the CA and the name.
  asio::awaitable<error_code> tls_handshake(const std::string& name) {
    tls_stream.emplace(socket, *config.tls);
    SSL* ssl = tls_stream->native_handle();
    error_code address_ec;
    asio::ip::make_address(name, address_ec);
    const bool is_ip = !address_ec;
    // OpenSSL checks the name during verification, so a mismatch is reported as one.
    const bool name_set = is_ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name.c_str()) == 1
                                : SSL_set_tlsext_host_name(ssl, name.c_str()) == 1 &&  // SNI: never an IP
                                      SSL_set1_host(ssl, name.c_str()) == 1;
    if (!name_set) {
      spdlog::error("redis: cannot set the TLS server name {} for {}", name, endpoint_text);
      failure_detail = "cannot use " + name + " as the TLS server name";
      co_return error::tls_failed;
    }
    auto [ec] = co_await tls_stream->async_handshake(asio::ssl::stream_base::client, use_tuple);
    if (error_code step = connect_step(ec)) {
      if (step != ec) co_return step;  // stopped or timed out
      const long verify = SSL_get_verify_result(ssl);
      const std::string why = verify != X509_V_OK
          ? fmt::format("the certificate is not trusted for {}: {}", name, X509_verify_cert_error_string(verify))
          : ec.message();
      spdlog::error("redis: TLS handshake with {} failed: {}", endpoint_text, why);
      failure_detail = why;
      co_return error::tls_failed;
    }
    co_return error_code{};
  }

  // Takes every queued request and writes them all at once, until the connection fails.
  asio::awaitable<error_code> writer() {
    for (;;) {
      if (stopping || drop_reason) {
        co_return drop_reason ? drop_reason : error_code(error::stopped);
      }
      if (write_queue.empty()) {
        auto [ec] = co_await writer_wakeup.async_receive(use_tuple);
        if (ec) {
          co_return ec;
        }
        continue;
      }
      write_buffer.clear();
      while (!write_queue.empty()) {
        PendingPtr op = std::move(write_queue.front());
        write_queue.pop_front();
        if (op->done) {
          continue;  // timed out or abandoned before it reached the socket
        }
        write_buffer += op->request->payload();
        op->sent = true;
        // Queued for its replies before the write completes: they may be read first.
        reply_queue.push_back(std::move(op));
      }
      if (write_buffer.empty()) {
        continue;
      }
      auto [ec, written] = co_await write_all(asio::buffer(write_buffer));
      (void)written;
      if (ec) {
        drop_connection(ec);
        co_return ec;
      }
      if (write_buffer.capacity() > 1024 * 1024) {
        std::string().swap(write_buffer);  // one huge batch should not pin its memory
      }
    }
  }

  // Redis Cluster tells a sharded subscriber that a channel's slot moved away with
  // ["sunsubscribe", channel, count], which is also what SUNSUBSCRIBE answers: it is a reply
  // only when the next reply due is that of SUNSUBSCRIBE of that channel.
  bool unrequested_sunsubscribe(const Reply& reply) const {
    if (reply.type != Reply::Type::array || reply.elements.size() != 3 || reply.elements[0].str != "sunsubscribe") {
      return false;
    }
    if (reply_queue.empty()) return true;
    const PendingRequest& op = *reply_queue.front();
    if (op.received >= op.request->size()) return true;
    const auto key = op.request->key(op.received);
    return !(op.request->name(op.received) == "SUNSUBSCRIBE" && key && *key == reply.elements[1].str);
  }

  // Parses replies and completes requests in the order they were written.
  asio::awaitable<error_code> reader() {
    for (;;) {
      auto [ec, n] = co_await read_some(asio::buffer(read_buffer));
      if (stopping || drop_reason) {
        co_return drop_reason ? drop_reason : error_code(error::stopped);
      }
      if (ec) {
        drop_connection(ec);  // new callers fail fast from here on
        co_return ec;
      }
      parser.feed({read_buffer.data(), n});
      while (std::optional<Reply> reply = parser.next()) {
        if (config.on_push && (is_push(*reply) || unrequested_sunsubscribe(*reply))) {
          config.on_push(*reply);
          if (stopping || drop_reason) co_return drop_reason ? drop_reason : error_code(error::stopped);
          continue;
        }
        if (reply_queue.empty()) {
          spdlog::error("redis: {} sent a reply nobody asked for", endpoint_text);
          drop_connection(error::protocol);
          co_return error::protocol;
        }
        // In Sentinel mode, READONLY means the master became a replica (a failover): this
        // connection must not be used again; the next one asks the sentinels.
        const bool demoted = !config.sentinels.empty() && reply->is_error() && reply->str.starts_with("READONLY");
        PendingRequest& op = *reply_queue.front();
        if (!op.done) {
          op.replies.push_back(std::move(*reply));
        }
        if (demoted) {
          spdlog::warn("redis: {} answered READONLY: it is no longer the master; asking the sentinels again",
                       endpoint_text);
          complete(op, {});
          reply_queue.pop_front();
          drop_connection(error::not_master);
          co_return error::not_master;
        }
        if (++op.received == op.request->size()) {
          complete(op, {});
          reply_queue.pop_front();
        }
      }
      if (parser.failed()) {
        spdlog::error("redis: invalid reply from {}: {}", endpoint_text, parser.error());
        drop_connection(error::protocol);
        co_return error::protocol;
      }
    }
  }

  asio::awaitable<error_code> serve() {
    // Whichever side fails first ends the connection; `||` cancels the other and waits for it.
    std::variant<error_code, error_code> ended = co_await (reader() || writer());
    co_return std::visit([](error_code ec) { return ec; }, ended);
  }

  // After a failed attempt or a lost connection: closes the socket and fails what is pending.
  void disconnect(error_code cause, bool was_connected) {
    is_connected = false;
    error_code ignored;
    socket.close(ignored);
    const error_code reason = drop_reason ? drop_reason : cause;
    if (stopping) {
      fail_all(error::stopped, error::stopped);
      return;
    }
    fail_all(error::not_connected,
             reason == error::protocol ? error_code(error::protocol)
                                       : error_code(error::connection_lost));
    set_last_error(reason);
    if (was_connected) {
      spdlog::warn("redis: connection to {} lost: {}", endpoint_text, reason.message());
    }
  }

  static asio::awaitable<void> run(std::shared_ptr<Impl> self) {
    unsigned attempt = 0;
    error_code previous_failure;
    while (!self->stopping) {
      error_code ec;
      bool was_connected = false;
      try {
        ec = co_await self->connect();
        if (!ec && !self->stopping) {
          attempt = 0;
          previous_failure = {};
          was_connected = true;
          self->is_connected = true;
          self->set_last_error({});
          spdlog::info("redis: connected to {}", self->endpoint_text);
          if (self->config.on_connected) self->config.on_connected();
          ec = co_await self->serve();
        }
      } catch (const std::exception& e) {
        // Not a network or Redis error (those are error codes): e.g. out of memory.
        spdlog::error("redis: unexpected failure on {}: {}", self->endpoint_text, e.what());
        ec = error::protocol;
      }
      self->disconnect(ec, was_connected);
      if (self->stopping) {
        break;
      }

      const double jitter = std::uniform_real_distribution<double>(0.0, 1.0)(self->jitter_source);
      const auto delay = reconnect_delay(self->config, attempt++, jitter);
      if (!was_connected) {
        // The first failure of a kind is a warning; repeating it every few seconds is noise.
        const auto level = ec == previous_failure ? spdlog::level::debug : spdlog::level::warn;
        const std::string why = self->error_text();
        spdlog::log(level, "redis: cannot connect to {}: {}; retrying in {} ms",
                    self->endpoint_text, why.empty() ? ec.message() : why, delay.count());
        previous_failure = ec;
      }
      self->backoff_timer.expires_after(delay);
      co_await self->backoff_timer.async_wait(use_tuple);
    }
    self->fail_all(error::stopped, error::stopped);
  }

  // Runs on the client's executor.
  static asio::awaitable<Result> exec_here(std::shared_ptr<Impl> self, std::shared_ptr<const Request> request) {
    if (self->stopping) {
      co_return Result{make_error_code(error::stopped), {}};
    }
    if (!self->is_connected) {
      co_return Result{make_error_code(error::not_connected), {}};
    }
    if (request->size() == 0) {
      co_return Result{};
    }
    auto op = std::make_shared<PendingRequest>(self->executor, std::move(request));
    if (self->config.command_timeout.count() > 0) {
      op->wake.expires_after(self->config.command_timeout);
    } else {
      op->wake.expires_at(asio::steady_timer::time_point::max());
    }
    self->write_queue.push_back(op);
    self->wake_writer();

    auto [ec] = co_await op->wake.async_wait(use_tuple);
    if (!op->done) {
      op->done = true;
      if (!ec) {
        op->ec = error::timeout;
        if (op->sent) {
          // Its reply may still come; only a new connection keeps replies matched to requests.
          spdlog::warn("redis: no reply from {} within {} ms; reconnecting", self->endpoint_text,
                       self->config.command_timeout.count());
          self->drop_connection(error::timeout);
        }
      } else {
        op->ec = asio::error::operation_aborted;  // the caller was cancelled
      }
      op->replies.clear();
    }
    co_return Result{op->ec, std::move(op->replies)};
  }

  static asio::awaitable<Result> exec(std::shared_ptr<Impl> self, std::shared_ptr<const Request> request) {
    const asio::any_io_executor caller = co_await asio::this_coro::executor;
    if (caller == self->executor) {
      co_return co_await exec_here(self, std::move(request));
    }
    // Another executor (thread or strand): the request's state must only be touched on ours.
    co_return co_await asio::co_spawn(self->executor, exec_here(self, std::move(request)),
                                      asio::use_awaitable);
  }
};

Client::Client(asio::any_io_executor executor, ClientConfig config)
    : impl_(std::make_shared<Impl>(executor, config)),
      cluster_(config.cluster_nodes.empty() ? nullptr : std::make_shared<ClusterRouter>(executor, config)) {}

Client::~Client() { stop(); }

void Client::start() {
  if (cluster_) {
    cluster_->start();
    return;
  }
  asio::dispatch(impl_->executor, [impl = impl_] {
    if (impl->started || impl->stopping) {
      return;
    }
    impl->started = true;
    asio::co_spawn(impl->executor, Impl::run(impl), [](std::exception_ptr e) {
      if (e) {
        try {
          std::rethrow_exception(e);
        } catch (const std::exception& ex) {
          spdlog::critical("redis: client coroutine ended: {}", ex.what());
        } catch (...) {
          spdlog::critical("redis: client coroutine ended by an unknown exception");
        }
      }
    });
  });
}

void Client::stop() {
  if (cluster_) cluster_->stop();
  asio::dispatch(impl_->executor, [impl = impl_] { impl->shutdown(); });
}

asio::awaitable<Result> Client::exec(Request request) {
  if (cluster_) return cluster_->exec(std::move(request));
  return Impl::exec(impl_, std::make_shared<const Request>(std::move(request)));
}

asio::awaitable<Result> Client::exec_shared(std::shared_ptr<const Request> request) {
  return Impl::exec(impl_, std::move(request));
}

bool Client::connected() const { return cluster_ ? cluster_->connected() : impl_->is_connected.load(); }

boost::system::error_code Client::last_error() const {
  if (cluster_) return cluster_->last_error();
  std::lock_guard lock(impl_->last_error_mutex);
  return impl_->last_error;
}

std::string Client::last_error_text() const { return cluster_ ? cluster_->last_error_text() : impl_->error_text(); }

std::string Client::server() const {
  if (cluster_) return cluster_->server();
  std::lock_guard lock(impl_->last_error_mutex);
  return impl_->server_text;
}

}  // namespace pushgw::redis
