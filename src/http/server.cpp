// The HTTP/1.1 listener and its sessions, in the shape of Boost.Beast's coroutine examples:
// small free functions returning awaitables, expected outcomes (end of stream, timeouts,
// cancellation) checked through as_tuple, anything else thrown and caught once where the
// session is spawned.

#include "pushgw/http/server.hpp"
#include "pushgw/http/upgrade.hpp"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <optional>
#include <unordered_set>

#include "pushgw/common/quote.hpp"

namespace pushgw::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using Parser = bhttp::request_parser<bhttp::string_body>;
using namespace std::chrono_literals;

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

Response Response::json(int status, std::string body) {
  Response r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

Response Response::error(int status, std::string_view message, std::string_view path) {
  nlohmann::json body = {{"error", message}};
  if (!path.empty()) body["path"] = path;
  // Invalid UTF-8 from a caller's message must not turn an error answer into an exception.
  return json(status, body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

namespace {

constexpr std::size_t kReadSize = 16 * 1024;
constexpr auto kRefusalWriteTimeout = 2s;  // answering a connection over the limits
constexpr auto kLinger = 1s;               // reading and dropping what a refused client still sends

// One live connection, as the server sees it for draining and for making room in the reserve.
struct SessionState {
  beast::tcp_stream* stream = nullptr;
  const beast::flat_buffer* buffer = nullptr;
  bool busy = false;     // a request's header has been read: it is being read, handled or answered
  bool evicted = false;  // a reserve connection closed to make room for a newer one
  Clock::time_point since = Clock::now();

  // A request has started to arrive (bytes buffered or waiting in the socket): a drain lets
  // it finish rather than cut it off.
  bool request_started() const {
    beast::error_code ec;
    return busy || buffer->size() > 0 || stream->socket().available(ec) > 0;
  }
};

}  // namespace

struct Server::Impl {
  Impl(asio::any_io_executor ex, ServerConfig cfg, std::vector<Route> r, RequestObserver obs)
      : executor(ex), config(std::move(cfg)), routes(std::move(r)), observer(std::move(obs)),
        acceptor(ex) {}

  asio::any_io_executor executor;
  ServerConfig config;
  std::vector<Route> routes;
  RequestObserver observer;
  tcp::acceptor acceptor;
  std::unordered_set<SessionState*> sessions;  // up to max_connections
  std::unordered_set<SessionState*> reserve;   // over it: up to probe_connections, probes only
  std::size_t pending_body_bytes = 0;          // reserved by unfinished request bodies
  bool stopping = false;
};

namespace {

using ImplPtr = std::shared_ptr<Server::Impl>;
using SessionSet = std::unordered_set<SessionState*> Server::Impl::*;

// Registers a session for the lifetime of its coroutine.
class SessionRegistration {
 public:
  SessionRegistration(ImplPtr impl, SessionSet set, SessionState* state)
      : impl_(std::move(impl)), set_(set), state_(state) {
    ((*impl_).*set_).insert(state_);
  }
  ~SessionRegistration() { ((*impl_).*set_).erase(state_); }  // an evicted one is gone already
  SessionRegistration(const SessionRegistration&) = delete;
  SessionRegistration& operator=(const SessionRegistration&) = delete;

 private:
  ImplPtr impl_;
  SessionSet set_;
  SessionState* state_;
};

// Bytes of one request body, counted against max_pending_body_bytes of all connections.
class BodyReservation {
 public:
  explicit BodyReservation(Server::Impl& impl) : impl_(impl) {}
  ~BodyReservation() { impl_.pending_body_bytes -= held_; }
  BodyReservation(const BodyReservation&) = delete;
  BodyReservation& operator=(const BodyReservation&) = delete;

  // Grows the reservation to `bytes`; false when that would go over the limit.
  bool cover(std::size_t bytes) {
    if (bytes <= held_) return true;
    const std::size_t more = bytes - held_;
    if (impl_.pending_body_bytes + more > impl_.config.max_pending_body_bytes) return false;
    impl_.pending_body_bytes += more;
    held_ = bytes;
    return true;
  }

 private:
  Server::Impl& impl_;
  std::size_t held_ = 0;
};

// Client input in a log line or metric: as is when short, else common::quote() of it.
std::string bounded(std::string_view input) {
  return input.size() <= common::kQuoteMaxBytes ? std::string(input) : common::quote(input);
}

void report(const Server::Impl& impl, std::string_view route, std::string_view method,
            std::string_view target, std::string_view remote, int status, Clock::time_point started,
            std::size_t body_bytes) {
  if (!impl.observer) return;
  const std::string shown_method = bounded(method);
  const std::string shown_target = bounded(target);
  impl.observer(CompletedRequest{route, shown_method, shown_target, remote, status,
                                 std::chrono::duration<double>(Clock::now() - started).count(),
                                 body_bytes});
}

bool iequals_prefix(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && beast::iequals(s.substr(0, prefix.size()), prefix);
}

bool is_absolute_form(std::string_view target) {
  return iequals_prefix(target, "http://") || iequals_prefix(target, "https://");
}

// The path of an origin-form or absolute-form target, without the query.
std::string path_of(std::string_view target) {
  if (is_absolute_form(target)) {
    const auto authority = target.find("//") + 2;
    const auto slash = target.find_first_of("/?", authority);
    target = slash == std::string_view::npos || target[slash] == '?' ? "/" : target.substr(slash);
  }
  return std::string(target.substr(0, target.find('?')));
}

// Request line and headers; the body is moved in once read.
Request request_head(const bhttp::request<bhttp::string_body>& in, const std::string& remote) {
  Request out;
  out.method = std::string(in.method_string());
  out.target = std::string(in.target());
  out.path = path_of(out.target);
  out.headers.reserve(std::distance(in.begin(), in.end()));
  for (const auto& field : in) {
    std::string name(field.name_string());
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out.headers.emplace_back(std::move(name), std::string(field.value()));
  }
  out.remote = remote;
  return out;
}

bhttp::response<bhttp::string_body> to_beast(const Response& in, unsigned version, bool keep_alive) {
  bhttp::response<bhttp::string_body> out{static_cast<bhttp::status>(in.status), version};
  out.set(bhttp::field::server, "pushgw");
  if (!in.content_type.empty() && (!in.body.empty() || in.status >= 200)) out.set(bhttp::field::content_type, in.content_type);
  for (const auto& [name, value] : in.headers) out.set(name, value);
  out.keep_alive(keep_alive);
  out.body() = in.body;
  out.prepare_payload();
  return out;
}

// ---- Framing (RFC 9112): what the server refuses beyond what Beast's parser rejects itself.

// Notices a header line that starts with a space or tab (obs-fold) in the pieces the parser
// consumes the header in; Beast would join such lines silently.
struct FoldScan {
  bool at_line_start = false;
  bool folded = false;
  void scan(std::string_view bytes) {
    for (char c : bytes) {
      folded |= at_line_start && (c == ' ' || c == '\t');
      at_line_start = c == '\n';
    }
  }
};

std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// True when the Transfer-Encoding list is exactly one coding, chunked: we decode no other, and
// chunked anywhere but last leaves the body's end unknown (request smuggling).
bool only_chunked(std::string_view codings) {
  std::size_t count = 0;
  bool chunked = false;
  while (!codings.empty()) {
    const auto comma = codings.find(',');
    const std::string_view coding = trim_ows(codings.substr(0, comma));
    if (!coding.empty()) {
      ++count;
      chunked = beast::iequals(coding, "chunked");
    }
    codings = comma == std::string_view::npos ? std::string_view{} : codings.substr(comma + 1);
  }
  return count == 1 && chunked;
}

// RFC 3986 host [":" port]: reg-name, IPv4 or IP-literal characters only (empty is allowed).
bool valid_host(std::string_view host) {
  constexpr std::string_view kAllowed = "-._~!$&'()*+,;=%:[]";
  return std::all_of(host.begin(), host.end(), [&](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || kAllowed.find(c) != std::string_view::npos;
  });
}

std::optional<std::string> target_problem(std::string_view method, std::string_view target) {
  const bool ascii = std::all_of(target.begin(), target.end(),
                                 [](char c) { return static_cast<unsigned char>(c) < 0x80; });
  if (!ascii) return "request target is not ASCII (RFC 3986): " + common::quote(target);
  if (target.starts_with('/') || is_absolute_form(target) || (target == "*" && method == "OPTIONS")) {
    return std::nullopt;
  }
  return "request target must start with \"/\": " + common::quote(target);
}

std::optional<std::string> framing_problem(const Parser& parser, const FoldScan& folds) {
  const auto& head = parser.get();
  if (folds.folded) return std::string("folded header lines (obs-fold) are not accepted");
  const auto hosts = head.equal_range(bhttp::field::host);
  const auto host_count = std::distance(hosts.first, hosts.second);
  if (host_count > 1) return std::string("more than one Host header");
  if (host_count == 0 && head.version() >= 11) return std::string("an HTTP/1.1 request needs a Host header");
  if (host_count == 1 && !valid_host(hosts.first->value())) {
    return "invalid Host header: " + common::quote(hosts.first->value());
  }
  const auto codings = head.equal_range(bhttp::field::transfer_encoding);
  if (codings.first != codings.second) {
    if (head.version() < 11) return std::string("Transfer-Encoding in an HTTP/1.0 request");
    if (head.count(bhttp::field::content_length) > 0) {
      return std::string("Transfer-Encoding and Content-Length together");
    }
    std::string list;
    for (auto it = codings.first; it != codings.second; ++it) list.append(it->value()).append(",");
    if (!only_chunked(list)) {
      return "Transfer-Encoding must be exactly \"chunked\", got " + common::quote(list.substr(0, list.size() - 1));
    }
  }
  return target_problem(head.method_string(), head.target());
}

// ---- Reading, with a deadline for every wait.

bool client_gone(const beast::error_code& ec) {
  return ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message ||
         ec == asio::error::operation_aborted || ec == asio::error::connection_reset ||
         ec == asio::error::eof || ec == asio::error::bad_descriptor || ec == asio::error::broken_pipe;
}

// Gives the parser what is buffered, reading more when it needs it, until it makes progress,
// fails, or `deadline` passes (beast::error::timeout). A chunk line or trailer longer than
// `max_pending` is bad framing: Beast would buffer it without bound.
asio::awaitable<beast::error_code> parse_some(beast::tcp_stream& stream, beast::flat_buffer& buffer,
                                              Parser& parser, FoldScan& folds,
                                              Clock::time_point deadline, std::size_t max_pending) {
  for (;;) {
    if (buffer.size() > 0) {
      beast::error_code ec;
      const bool in_header = !parser.is_header_done();
      const std::size_t used = parser.put(buffer.data(), ec);
      if (in_header) folds.scan({static_cast<const char*>(buffer.data().data()), used});
      buffer.consume(used);
      if (ec != bhttp::error::need_more) co_return ec;
      if (used > 0) co_return beast::error_code{};
      if (!in_header && buffer.size() >= max_pending) co_return bhttp::error::bad_chunk;
    }
    stream.expires_at(deadline);
    auto [ec, n] = co_await stream.async_read_some(buffer.prepare(kReadSize), use_tuple);
    if (ec == asio::error::eof) {
      co_return parser.got_some() ? bhttp::error::partial_message : bhttp::error::end_of_stream;
    }
    if (ec) co_return ec;
    buffer.commit(n);
  }
}

// A kept-alive connection may stay quiet for idle_timeout before its next request; from its
// first byte (from the accept on a new connection) the header must arrive within header_timeout.
asio::awaitable<beast::error_code> read_header(beast::tcp_stream& stream, beast::flat_buffer& buffer,
                                               Parser& parser, FoldScan& folds,
                                               const ServerConfig& cfg, bool first_request) {
  if (!first_request && buffer.size() == 0) {
    stream.expires_after(cfg.idle_timeout);
    auto [ec, n] = co_await stream.async_read_some(buffer.prepare(kReadSize), use_tuple);
    if (ec == asio::error::eof) co_return bhttp::error::end_of_stream;
    if (ec) co_return ec;
    buffer.commit(n);
  }
  const auto deadline = Clock::now() + std::min(cfg.header_timeout, cfg.read_timeout);
  while (!parser.is_header_done()) {
    if (auto ec = co_await parse_some(stream, buffer, parser, folds, deadline, cfg.max_header_bytes)) {
      co_return ec;
    }
  }
  co_return beast::error_code{};
}

// Reads the body, which must keep coming at min_receive_rate on average after a head start of
// header_timeout, and finish within read_timeout. A chunked body reserves its bytes a read ahead
// as it grows; asio::error::no_buffer_space when max_pending_body_bytes is reached.
asio::awaitable<beast::error_code> read_body(beast::tcp_stream& stream, beast::flat_buffer& buffer,
                                             Parser& parser, FoldScan& folds,
                                             BodyReservation& reservation, const ServerConfig& cfg) {
  parser.eager(true);
  const auto start = Clock::now();
  const auto last_deadline = start + cfg.read_timeout;
  while (!parser.is_done()) {
    const std::size_t received = parser.get().body().size();
    const auto length = parser.content_length();
    if (!reservation.cover(length ? *length : std::min(received + kReadSize, cfg.max_body_bytes))) {
      co_return asio::error::no_buffer_space;
    }
    auto deadline = last_deadline;
    if (cfg.min_receive_rate > 0) {
      const auto allowed = cfg.header_timeout + std::chrono::milliseconds(received * 1000 / cfg.min_receive_rate);
      deadline = std::min(deadline, start + allowed);
    }
    if (auto ec = co_await parse_some(stream, buffer, parser, folds, deadline, cfg.max_header_bytes)) {
      co_return ec;
    }
  }
  co_return beast::error_code{};
}

// ---- Answers.

Response too_many_connections() {
  Response r = Response::error(503, "too many connections");
  r.headers.emplace_back("Retry-After", "1");
  return r;
}

// A request refused before it was read whole: the answer, and its route label.
struct Refusal {
  Response response;
  std::string_view route = "unmatched";
};

std::optional<Refusal> header_refusal(const beast::error_code& ec, const ServerConfig& cfg) {
  if (ec == bhttp::error::header_limit) {
    return Refusal{Response::error(431, "request headers exceed " + std::to_string(cfg.max_header_bytes) + " bytes")};
  }
  if (client_gone(ec) || ec == beast::error::timeout) return std::nullopt;  // gone, idle or too slow
  // A malformed request line or header: Beast's message names what, without echoing input.
  return Refusal{Response::error(400, "malformed HTTP request: " + ec.message())};
}

std::optional<Refusal> body_refusal(const beast::error_code& ec, const ServerConfig& cfg) {
  if (ec == bhttp::error::body_limit) {
    return Refusal{Response::error(413, "request body exceeds the limit of " + std::to_string(cfg.max_body_bytes) + " bytes")};
  }
  if (ec == asio::error::no_buffer_space) {
    Response r = Response::error(503, "too many request bodies in progress; retry shortly");
    r.headers.emplace_back("Retry-After", "1");
    return Refusal{std::move(r)};
  }
  if (client_gone(ec) || ec == beast::error::timeout) return std::nullopt;
  return Refusal{Response::error(400, "malformed request body: " + ec.message())};
}

// Answers a request we will not read further and closes. What the client still sends for a
// moment is read and dropped: closing with unread bytes resets the connection, which can
// destroy the answer before the client reads it.
asio::awaitable<void> refuse(beast::tcp_stream& stream, SessionState& state, const Response& response,
                             std::chrono::milliseconds write_timeout, std::size_t max_dropped) {
  auto message = to_beast(response, 11, false);
  stream.expires_after(write_timeout);
  auto [ec, n] = co_await bhttp::async_write(stream, message, use_tuple);
  if (ec) co_return;
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  state.busy = false;  // a drain, or a newer reserve connection, may close it now
  std::array<char, 4096> sink;
  stream.expires_after(kLinger);
  for (std::size_t dropped = 0; dropped < max_dropped;) {
    auto [read_ec, got] = co_await stream.async_read_some(asio::buffer(sink), use_tuple);
    if (read_ec) break;
    dropped += got;
  }
}

// ---- Routing.

struct RouteMatch {
  const Route* route = nullptr;  // method and path match
  std::string allow;             // the path's methods, when only the path matches
};

RouteMatch match_route(const std::vector<Route>& routes, const Request& request) {
  RouteMatch match;
  for (const auto& route : routes) {
    if (!route_matches(route.path, request.path)) continue;
    if (route.method == request.method) return RouteMatch{&route, {}};
    match.allow += (match.allow.empty() ? "" : ", ") + route.method;
  }
  return match;
}

// 404, 405 and 401 are decided from the header alone, before any body is read.
std::optional<Refusal> route_refusal(const Server::Impl& impl, const RouteMatch& match, const Request& request) {
  if (!match.route && !match.allow.empty()) {
    Response r = Response::error(405, "method " + common::quote(request.method) + " not allowed on " + common::quote(request.path));
    r.headers.emplace_back("Allow", match.allow);
    return Refusal{std::move(r)};
  }
  if (!match.route) return Refusal{Response::error(404, "no route for " + common::quote(request.path))};
  if (!match.route->requires_auth || impl.config.api_keys.empty()) return std::nullopt;
  auto key = presented_api_key(request);
  if (key && api_key_matches(*key, impl.config.api_keys)) return std::nullopt;
  Response r = Response::error(
      401, key ? "invalid API key" : "missing API key: send \"Authorization: Bearer <key>\" or \"X-API-Key: <key>\"");
  r.headers.emplace_back("WWW-Authenticate", "Bearer");
  return Refusal{std::move(r), match.route->path};
}

// A connection in the reserve is served only for a header-only GET of a probe path.
bool is_probe(const ServerConfig& cfg, const Request& request, const Parser& parser) {
  const auto& paths = cfg.probe_paths;
  return request.method == "GET" && !parser.chunked() && parser.content_length().value_or(0) == 0 &&
         std::find(paths.begin(), paths.end(), request.path) != paths.end();
}

// What is decided from the header alone, in order: framing, the reserve's probes-only rule,
// route and API key, size; the body's bytes are reserved last.
std::optional<Refusal> refusal_before_body(Server::Impl& impl, const Parser& parser, const FoldScan& folds,
                                           const Request& request, const RouteMatch& match, bool reserved,
                                           BodyReservation& reservation) {
  const ServerConfig& cfg = impl.config;
  if (auto problem = framing_problem(parser, folds)) return Refusal{Response::error(400, *problem)};
  if (reserved && !is_probe(cfg, request, parser)) return Refusal{too_many_connections()};
  if (auto by_route = route_refusal(impl, match, request)) return by_route;
  const auto length = parser.content_length();
  if (length && *length > cfg.max_body_bytes) {
    return Refusal{Response::error(413, "request body of " + std::to_string(*length) +
                                            " bytes exceeds the limit of " + std::to_string(cfg.max_body_bytes))};
  }
  if (length && !reservation.cover(*length)) return body_refusal(asio::error::no_buffer_space, cfg);
  return std::nullopt;
}

asio::awaitable<Response> run_handler(const Route& route, const Request& request) {
  try {
    co_return co_await route.handler(request);
  } catch (const std::exception& e) {
    spdlog::error("http: handler for {} {} failed: {}", route.method, route.path, common::quote(e.what(), 256));
    co_return Response::error(500, "internal error");
  }
}

// Nullopt once the handler took the connection; a refusal otherwise (500 when it threw before).
asio::awaitable<std::optional<Response>> run_upgrade(const Route& route, const Request& request, TakeConnection take,
                                                     const bool& taken) {
  try {
    co_return co_await route.upgrade(request, std::move(take));
  } catch (const std::exception& e) {
    spdlog::error("http: handler for {} {} failed: {}", route.method, route.path, common::quote(e.what(), 256));
    if (taken) co_return std::nullopt;
    co_return Response::error(500, "internal error");
  }
}

std::string endpoint_text(const tcp::socket& socket) {
  beast::error_code ec;
  auto ep = socket.remote_endpoint(ec);
  if (ec) return "unknown";
  return ep.address().to_string() + ":" + std::to_string(ep.port());
}

enum class Slot { regular, reserve };

asio::awaitable<void> run_session(ImplPtr impl, tcp::socket socket, Slot slot) {
  const ServerConfig& cfg = impl->config;
  const std::string remote = endpoint_text(socket);
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;
  SessionState state{&stream, &buffer};
  const bool reserved = slot == Slot::reserve;
  SessionRegistration registration(impl, reserved ? &Server::Impl::reserve : &Server::Impl::sessions, &state);
  bool first_request = true;

  while (!impl->stopping) {
    Parser parser;
    parser.header_limit(static_cast<std::uint32_t>(cfg.max_header_bytes));
    parser.body_limit(boost::none);  // Content-Length is checked once the route is known
    FoldScan folds;

    auto header_ec = co_await read_header(stream, buffer, parser, folds, cfg, first_request);
    const auto started = Clock::now();
    if (header_ec == beast::error::timeout && (buffer.size() > 0 || parser.got_some())) {
      // Too slow: the connection is closed (the stream did so on timeout); counted as 408.
      report(*impl, "unmatched", "", "", remote, 408, started, 0);
      co_return;
    }
    if (header_ec) {
      auto refusal = state.evicted ? std::optional<Refusal>(Refusal{too_many_connections()}) : header_refusal(header_ec, cfg);
      if (!refusal) co_return;
      state.busy = true;
      co_await refuse(stream, state, refusal->response, cfg.read_timeout, cfg.max_body_bytes);
      report(*impl, refusal->route, "", "", remote, refusal->response.status, started, 0);
      co_return;
    }
    state.busy = true;
    first_request = false;

    Request request = request_head(parser.get(), remote);
    const bool has_body = parser.chunked() || parser.content_length().value_or(0) > 0;
    const RouteMatch match = match_route(impl->routes, request);
    BodyReservation reservation(*impl);
    auto refusal = refusal_before_body(*impl, parser, folds, request, match, reserved, reservation);
    if (!refusal && has_body) {
      if (beast::iequals(parser.get()[bhttp::field::expect], "100-continue")) {
        // curl and others wait for this before sending larger bodies.
        bhttp::response<bhttp::empty_body> go_on{bhttp::status::continue_, parser.get().version()};
        stream.expires_after(cfg.read_timeout);
        auto [ec, n] = co_await bhttp::async_write(stream, go_on, use_tuple);
        if (ec) co_return;
      }
      parser.body_limit(cfg.max_body_bytes);  // for chunked bodies
      if (auto body_ec = co_await read_body(stream, buffer, parser, folds, reservation, cfg)) {
        if (body_ec == beast::error::timeout) {
          report(*impl, "unmatched", request.method, request.target, remote, 408, started, 0);
        }
        refusal = body_refusal(body_ec, cfg);
        if (!refusal) co_return;  // the client went away or was too slow
      }
    }
    if (refusal) {
      co_await refuse(stream, state, refusal->response, cfg.read_timeout, cfg.max_body_bytes);
      report(*impl, refusal->route, request.method, request.target, remote, refusal->response.status, started, 0);
      co_return;
    }

    request.body = std::move(parser.get().body());
    const bool client_keep_alive = parser.get().keep_alive();
    const unsigned version = parser.get().version();
    Response response;
    if (match.route->upgrade) {
      int taken_status = 0;
      bool taken = false;
      TakeConnection take = [&](int status) {
        taken = true;
        taken_status = status;
        return std::unique_ptr<Upgrade>(new Upgrade{std::move(stream), std::move(buffer), parser.release()});
      };
      std::optional<Response> answer = co_await run_upgrade(*match.route, request, std::move(take), taken);
      if (taken) {
        if (answer) spdlog::error("http: {} took its connection and answered too; the answer is dropped", match.route->path);
        report(*impl, match.route->path, request.method, request.target, remote, taken_status, started, 0);
        co_return;  // the connection is the handler's now
      }
      response = answer ? std::move(*answer) : Response::error(500, "internal error");
    } else {
      response = co_await run_handler(*match.route, request);
    }

    const bool keep_alive = client_keep_alive && !reserved && !impl->stopping;
    auto message = to_beast(response, version, keep_alive);
    stream.expires_after(cfg.read_timeout);
    auto [write_ec, written] = co_await bhttp::async_write(stream, message, use_tuple);
    report(*impl, match.route->path, request.method, request.target, remote, response.status, started, request.body.size());
    if (write_ec) co_return;
    state.busy = false;
    if (!keep_alive) {
      beast::error_code ignored;
      stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
      co_return;
    }
  }
}

// Over max_connections and with no room in the reserve: 503 at once rather than leave the
// client hanging.
asio::awaitable<void> reject_connection(ImplPtr impl, tcp::socket socket) {
  const auto started = Clock::now();
  const std::string remote = endpoint_text(socket);
  beast::tcp_stream stream(std::move(socket));
  auto message = to_beast(too_many_connections(), 11, false);
  stream.expires_after(kRefusalWriteTimeout);
  co_await bhttp::async_write(stream, message, use_tuple);
  report(*impl, "unmatched", "", "", remote, 503, started, 0);
}

// Room in the reserve for one more connection: a free place, or the oldest connection still
// sending its header (a probe sends its request at once; a slow sender has had its chance).
bool make_reserve_room(Server::Impl& impl) {
  if (impl.reserve.size() < impl.config.probe_connections) return true;
  SessionState* oldest = nullptr;
  for (SessionState* s : impl.reserve) {
    if (!s->busy && (!oldest || s->since < oldest->since)) oldest = s;
  }
  if (!oldest) return false;
  oldest->evicted = true;
  impl.reserve.erase(oldest);
  beast::error_code ignored;
  oldest->stream->socket().cancel(ignored);  // its read ends; it answers 503 and closes
  return true;
}

void log_session_failure(std::exception_ptr e) {
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    spdlog::warn("http: session ended with an error: {}", ex.what());
  }
}

asio::awaitable<void> accept_loop(ImplPtr impl) {
  for (;;) {
    auto [ec, socket] = co_await impl->acceptor.async_accept(use_tuple);
    if (impl->stopping || ec == asio::error::operation_aborted) co_return;
    if (ec) {
      // Out of file descriptors and similar: back off instead of spinning.
      spdlog::warn("http: accept failed: {}", ec.message());
      asio::steady_timer pause(impl->executor, 50ms);
      co_await pause.async_wait(use_tuple);
      continue;
    }
    beast::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    if (impl->sessions.size() < impl->config.max_connections) {
      asio::co_spawn(impl->executor, run_session(impl, std::move(socket), Slot::regular), log_session_failure);
    } else if (make_reserve_room(*impl)) {
      asio::co_spawn(impl->executor, run_session(impl, std::move(socket), Slot::reserve), log_session_failure);
    } else {
      asio::co_spawn(impl->executor, reject_connection(impl, std::move(socket)), log_session_failure);
    }
  }
}

}  // namespace

Server::Server(asio::any_io_executor executor, ServerConfig config, std::vector<Route> routes,
               RequestObserver observer)
    : impl_(std::make_shared<Impl>(executor, std::move(config), std::move(routes), std::move(observer))) {}

Server::~Server() {
  beast::error_code ignored;
  impl_->stopping = true;
  impl_->acceptor.close(ignored);
}

void Server::start() {
  const auto& cfg = impl_->config;
  beast::error_code ec;
  const auto address = asio::ip::make_address(cfg.host, ec);
  if (ec) throw std::system_error(ec, "listen address \"" + cfg.host + "\"");
  const tcp::endpoint endpoint(address, cfg.port);
  const std::string where = cfg.host + ":" + std::to_string(cfg.port);
  auto& acceptor = impl_->acceptor;
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) throw std::system_error(ec, "cannot listen on " + where);
  asio::co_spawn(impl_->executor, accept_loop(impl_), log_session_failure);
}

std::uint16_t Server::port() const {
  beast::error_code ec;
  auto ep = impl_->acceptor.local_endpoint(ec);
  return ec ? 0 : ep.port();
}

std::size_t Server::connections() const { return impl_->sessions.size() + impl_->reserve.size(); }

std::size_t Server::pending_body_bytes() const { return impl_->pending_body_bytes; }

asio::awaitable<void> Server::shutdown(std::chrono::milliseconds deadline) {
  auto impl = impl_;
  impl->stopping = true;
  beast::error_code ignored;
  impl->acceptor.close(ignored);

  const auto give_up_at = Clock::now() + deadline;
  asio::steady_timer tick(impl->executor);
  while (!impl->sessions.empty() || !impl->reserve.empty()) {
    const bool give_up = Clock::now() >= give_up_at;
    if (give_up) {
      spdlog::warn("http: drain deadline passed with {} connection(s) still busy; closing them",
                   impl->sessions.size() + impl->reserve.size());
    }
    // Idle keep-alive connections are closed now; busy ones finish their request and close.
    for (const auto* set : {&impl->sessions, &impl->reserve}) {
      for (SessionState* s : *set) {
        if (give_up || !s->request_started()) s->stream->socket().close(ignored);
      }
    }
    if (give_up) break;
    tick.expires_after(10ms);
    co_await tick.async_wait(use_tuple);
  }
}

}  // namespace pushgw::http
