// The HTTP/1.1 listener and its sessions, in the shape of Boost.Beast's coroutine examples:
// small free functions returning awaitables, expected outcomes (end of stream, timeouts,
// cancellation) checked through as_tuple, anything else thrown and caught once where the
// session is spawned.

#include "pushgw/http/server.hpp"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <unordered_set>

namespace pushgw::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;
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
  return json(status, body.dump());
}

namespace {

// One live connection, as the server sees it for draining.
struct SessionState {
  beast::tcp_stream* stream = nullptr;
  const beast::flat_buffer* buffer = nullptr;
  bool busy = false;  // a request's header has been read: it is being read, handled or answered

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
  std::unordered_set<SessionState*> sessions;
  bool stopping = false;
};

namespace {

using ImplPtr = std::shared_ptr<Server::Impl>;

// Registers a session for the lifetime of its coroutine.
class SessionRegistration {
 public:
  SessionRegistration(ImplPtr impl, SessionState* state) : impl_(std::move(impl)), state_(state) {
    impl_->sessions.insert(state_);
  }
  ~SessionRegistration() { impl_->sessions.erase(state_); }
  SessionRegistration(const SessionRegistration&) = delete;
  SessionRegistration& operator=(const SessionRegistration&) = delete;

 private:
  ImplPtr impl_;
  SessionState* state_;
};

Request to_request(bhttp::request<bhttp::string_body>&& in, std::string remote) {
  Request out;
  out.method = std::string(in.method_string());
  out.target = std::string(in.target());
  out.path = out.target.substr(0, out.target.find('?'));
  out.headers.reserve(std::distance(in.begin(), in.end()));
  for (const auto& field : in) {
    std::string name(field.name_string());
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out.headers.emplace_back(std::move(name), std::string(field.value()));
  }
  out.body = std::move(in.body());
  out.remote = std::move(remote);
  return out;
}

bhttp::response<bhttp::string_body> to_beast(const Response& in, unsigned version, bool keep_alive) {
  bhttp::response<bhttp::string_body> out{static_cast<bhttp::status>(in.status), version};
  out.set(bhttp::field::server, "pushgw");
  if (!in.body.empty() || in.status >= 200) out.set(bhttp::field::content_type, in.content_type);
  for (const auto& [name, value] : in.headers) out.set(name, value);
  out.keep_alive(keep_alive);
  out.body() = in.body;
  out.prepare_payload();
  return out;
}

// Finds the route and runs its handler; 404/405/401 and handler failures become responses.
asio::awaitable<Response> dispatch(const ImplPtr& impl, const Request& request,
                                   std::string_view& route_name) {
  const Route* path_match = nullptr;
  for (const auto& route : impl->routes) {
    if (route.path != request.path) continue;
    path_match = &route;
    if (route.method == request.method) {
      route_name = route.path;
      if (route.requires_auth && !impl->config.api_keys.empty()) {
        auto key = presented_api_key(request);
        if (!key || !api_key_matches(*key, impl->config.api_keys)) {
          Response r = Response::error(
              401, key ? "invalid API key" : "missing API key: send \"Authorization: Bearer <key>\" or \"X-API-Key: <key>\"");
          r.headers.emplace_back("WWW-Authenticate", "Bearer");
          co_return r;
        }
      }
      try {
        co_return co_await route.handler(request);
      } catch (const std::exception& e) {
        spdlog::error("http: handler for {} {} failed: {}", request.method, route.path, e.what());
        co_return Response::error(500, "internal error");
      }
    }
  }
  if (path_match) {
    std::string allow;
    for (const auto& route : impl->routes) {
      if (route.path == request.path) allow += (allow.empty() ? "" : ", ") + route.method;
    }
    Response r = Response::error(405, "method " + request.method + " not allowed on " + request.path);
    r.headers.emplace_back("Allow", allow);
    co_return r;
  }
  co_return Response::error(404, "no route for " + request.path);
}

// Answers a request we refuse before reading all of it, then the connection closes.
asio::awaitable<void> write_and_close(beast::tcp_stream& stream, const Response& response,
                                      std::chrono::milliseconds timeout) {
  auto message = to_beast(response, 11, false);
  stream.expires_after(timeout);
  co_await bhttp::async_write(stream, message, use_tuple);
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
}

std::string endpoint_text(const tcp::socket& socket) {
  beast::error_code ec;
  auto ep = socket.remote_endpoint(ec);
  if (ec) return "unknown";
  return ep.address().to_string() + ":" + std::to_string(ep.port());
}

asio::awaitable<void> run_session(ImplPtr impl, tcp::socket socket) {
  const ServerConfig& cfg = impl->config;
  const std::string remote = endpoint_text(socket);
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;
  SessionState state{&stream, &buffer, false};
  SessionRegistration registration(impl, &state);
  bool first_request = true;

  auto report = [&](std::string_view route, std::string_view method, std::string_view target,
                    int status, std::chrono::steady_clock::time_point started, std::size_t bytes) {
    if (!impl->observer) return;
    impl->observer(CompletedRequest{
        route, method, target, remote, status,
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count(), bytes});
  };

  while (!impl->stopping) {
    bhttp::request_parser<bhttp::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(cfg.max_header_bytes));
    parser.body_limit(cfg.max_body_bytes);

    // A new connection must send its request within the read timeout; a kept-alive one may
    // stay quiet for the idle timeout before its next request starts.
    stream.expires_after(first_request ? cfg.read_timeout : cfg.idle_timeout);
    auto [header_ec, header_bytes] = co_await bhttp::async_read_header(stream, buffer, parser, use_tuple);
    const auto started = std::chrono::steady_clock::now();
    if (header_ec == bhttp::error::body_limit) {
      // The parser checks Content-Length against the limit while reading the header.
      state.busy = true;
      co_await write_and_close(stream, Response::error(413, "request body exceeds the limit of " + std::to_string(cfg.max_body_bytes) + " bytes"), cfg.read_timeout);
      report("unmatched", "", "", 413, started, 0);
      co_return;
    }
    if (header_ec == bhttp::error::header_limit) {
      state.busy = true;
      co_await write_and_close(stream, Response::error(431, "request headers exceed " + std::to_string(cfg.max_header_bytes) + " bytes"), cfg.read_timeout);
      report("unmatched", "", "", 431, started, 0);
      co_return;
    }
    if (header_ec) {
      // end_of_stream, timeout, operation_aborted (drain), reset: the client is gone or idle.
      if (header_ec != bhttp::error::end_of_stream && header_ec != beast::error::timeout &&
          header_ec != asio::error::operation_aborted && header_ec != asio::error::connection_reset &&
          header_ec != asio::error::eof && header_ec != asio::error::bad_descriptor) {
        // A malformed request line or header: tell the client why.
        state.busy = true;
        co_await write_and_close(stream, Response::error(400, "malformed HTTP request: " + header_ec.message()), cfg.read_timeout);
        report("unmatched", "", "", 400, started, 0);
      }
      co_return;
    }
    state.busy = true;
    first_request = false;

    auto& head = parser.get();
    const std::string method(head.method_string());
    const std::string target(head.target());
    if (auto length = parser.content_length(); length && *length > cfg.max_body_bytes) {
      co_await write_and_close(stream, Response::error(413, "request body of " + std::to_string(*length) + " bytes exceeds the limit of " + std::to_string(cfg.max_body_bytes)), cfg.read_timeout);
      report("unmatched", method, target, 413, started, 0);
      co_return;
    }
    if (beast::iequals(head[bhttp::field::expect], "100-continue")) {
      // curl and others wait for this before sending larger bodies.
      bhttp::response<bhttp::empty_body> go_on{bhttp::status::continue_, head.version()};
      stream.expires_after(cfg.read_timeout);
      auto [ec, n] = co_await bhttp::async_write(stream, go_on, use_tuple);
      if (ec) co_return;
    }

    stream.expires_after(cfg.read_timeout);
    auto [body_ec, body_bytes] = co_await bhttp::async_read(stream, buffer, parser, use_tuple);
    if (body_ec == bhttp::error::body_limit) {
      co_await write_and_close(stream, Response::error(413, "request body exceeds the limit of " + std::to_string(cfg.max_body_bytes) + " bytes"), cfg.read_timeout);
      report("unmatched", method, target, 413, started, 0);
      co_return;
    }
    if (body_ec) co_return;  // the client went away or was too slow

    const bool client_keep_alive = parser.get().keep_alive();
    const unsigned version = parser.get().version();
    Request request = to_request(parser.release(), remote);
    std::string_view route_name = "unmatched";
    Response response = co_await dispatch(impl, request, route_name);

    const bool keep_alive = client_keep_alive && !impl->stopping;
    auto message = to_beast(response, version, keep_alive);
    stream.expires_after(cfg.read_timeout);
    auto [write_ec, written] = co_await bhttp::async_write(stream, message, use_tuple);
    report(route_name, request.method, request.target, response.status, started, request.body.size());
    if (write_ec) co_return;
    state.busy = false;
    if (!keep_alive) {
      beast::error_code ignored;
      stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
      co_return;
    }
  }
}

// Over max_connections: answer 503 at once rather than leave the client hanging.
asio::awaitable<void> reject_connection(tcp::socket socket) {
  beast::tcp_stream stream(std::move(socket));
  co_await write_and_close(stream, Response::error(503, "too many connections"), 2s);
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
    if (impl->sessions.size() >= impl->config.max_connections) {
      asio::co_spawn(impl->executor, reject_connection(std::move(socket)), log_session_failure);
      continue;
    }
    asio::co_spawn(impl->executor, run_session(impl, std::move(socket)), log_session_failure);
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

std::size_t Server::connections() const { return impl_->sessions.size(); }

asio::awaitable<void> Server::shutdown(std::chrono::milliseconds deadline) {
  auto impl = impl_;
  impl->stopping = true;
  beast::error_code ignored;
  impl->acceptor.close(ignored);

  const auto give_up_at = std::chrono::steady_clock::now() + deadline;
  asio::steady_timer tick(impl->executor);
  while (!impl->sessions.empty()) {
    // Idle keep-alive connections are closed now; busy ones finish their request and close.
    for (SessionState* s : impl->sessions) {
      if (!s->request_started()) s->stream->socket().close(ignored);
    }
    if (std::chrono::steady_clock::now() >= give_up_at) {
      spdlog::warn("http: drain deadline passed with {} connection(s) still busy; closing them",
                   impl->sessions.size());
      for (SessionState* s : impl->sessions) s->stream->socket().close(ignored);
      break;
    }
    tick.expires_after(10ms);
    co_await tick.async_wait(use_tuple);
  }
}

}  // namespace pushgw::http
