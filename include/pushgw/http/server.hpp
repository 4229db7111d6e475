#pragma once
// The HTTP/1.1 front door: a Beast listener and one coroutine per connection, with limits on
// everything a client controls (connections, header bytes, body bytes, time to send a request,
// idle keep-alive time) and API-key auth per route. Handlers are plain coroutines from
// Request to Response, so this header stays free of Beast.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

namespace pushgw::http {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct Request {
  std::string method;   // "GET", "POST", ...
  std::string target;   // as sent: path and query
  std::string path;     // target without the query
  Headers headers;      // names lower-cased
  std::string body;
  std::string remote;   // peer address "ip:port"

  // The first header with this (lower-case) name.
  std::optional<std::string_view> header(std::string_view name) const;
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  Headers headers;  // extra headers

  static Response json(int status, std::string body);
  // {"error": message} plus "path" when given: the shape of every API error.
  static Response error(int status, std::string_view message, std::string_view path = {});
};

using Handler = std::function<boost::asio::awaitable<Response>(const Request&)>;

// A connection a route takes over from the server for a long-lived exchange (Server-Sent
// Events, WebSocket): the socket, the bytes read past the request's header, and the request as
// Beast parsed it. Defined in pushgw/http/upgrade.hpp, for the code that uses Beast.
struct Upgrade;
// Moves the connection out of the server, which then forgets it: it no longer counts against
// max_connections, and a drain does not wait for it. `status` is what the request is reported
// with (200 for an event stream, 101 for a WebSocket).
using TakeConnection = std::function<std::unique_ptr<Upgrade>(int status)>;
// The handler of a route that may take its connection (GET, no body): it either answers with a
// Response, written as any other (a refusal: 401, 403...), or calls take() and returns nullopt.
using UpgradeHandler =
    std::function<boost::asio::awaitable<std::optional<Response>>(const Request&, TakeConnection take)>;

struct Route {
  std::string method;
  // Exact match; one that ends with '/' matches every longer path below it ("/tokens/" takes
  // "/tokens/ios/ab12"), and the handler reads the rest from Request::path.
  std::string path;
  bool requires_auth = false; // checked against ServerConfig::api_keys
  Handler handler;
  UpgradeHandler upgrade{};   // instead of handler, for a route that may take the connection
};

struct ServerConfig {
  std::string host = "0.0.0.0";
  std::uint16_t port = 8088;                  // 0 = any free port (see Server::port)
  std::size_t max_body_bytes = 1024 * 1024;
  std::size_t max_header_bytes = 16 * 1024;
  // Bytes held by all unfinished request bodies together; a body that would go over gets 503.
  std::size_t max_pending_body_bytes = 64 * 1024 * 1024;
  std::size_t max_connections = 1024;
  // Over max_connections, this many more connections may each send one header-only GET of a
  // probe path (the oldest still sending its header makes room for a new one); others get 503.
  std::size_t probe_connections = 16;
  std::vector<std::string> probe_paths = {"/healthz", "/readyz", "/metrics"};
  std::chrono::milliseconds header_timeout{5000};  // request line + headers, from their first byte
  // A body must arrive within header_timeout + (its bytes so far) / min_receive_rate seconds.
  std::size_t min_receive_rate = 16 * 1024;
  std::chrono::milliseconds read_timeout{10000};   // to receive one request (and write its response)
  std::chrono::milliseconds idle_timeout{60000};   // keep-alive wait for the next request
  std::vector<std::string> api_keys;               // empty = no auth
};

// What the server reports once per finished request (for metrics and the access log), and once
// per connection refused over the limits. Method and target come from the client: longer than
// common::kQuoteMaxBytes, they are reported as common::quote() of them.
struct CompletedRequest {
  std::string_view route;     // the route's path, "unmatched" for 404/405, refusals and limit errors
  std::string_view method;
  std::string_view target;
  std::string_view remote;
  int status = 0;
  double seconds = 0;         // from the end of the headers to the end of the response write
  std::size_t request_body_bytes = 0;
};
using RequestObserver = std::function<void(const CompletedRequest&)>;

class Server {
 public:
  Server(boost::asio::any_io_executor executor, ServerConfig config, std::vector<Route> routes,
         RequestObserver observer = {});
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and listens (throws std::system_error naming the address), then accepts in the
  // background.
  void start();
  std::uint16_t port() const;
  std::size_t connections() const;
  std::size_t pending_body_bytes() const;  // reserved by request bodies being read or handled

  // Graceful drain: stops accepting, closes idle keep-alive connections, lets requests in
  // progress finish (their connections close after the response), and returns when none are
  // left or the deadline passed (then the rest are closed).
  boost::asio::awaitable<void> shutdown(std::chrono::milliseconds deadline);

  struct Impl;  // shared with the session coroutines, which may outlive a call into Server

 private:
  std::shared_ptr<Impl> impl_;
};

// Whether a route's path takes a request's path (see Route::path).
inline bool route_matches(std::string_view route, std::string_view path) {
  if (!route.empty() && route.back() == '/' && route.size() > 1) {
    return path.size() > route.size() && path.substr(0, route.size()) == route;
  }
  return route == path;
}

// True when `presented` equals one of `keys`. Constant time in the key contents: both sides
// are hashed to fixed-length digests first, and every key is compared.
bool api_key_matches(std::string_view presented, const std::vector<std::string>& keys);

// The key a request presents: "Authorization: Bearer <key>" or "X-API-Key: <key>".
std::optional<std::string_view> presented_api_key(const Request& request);

}  // namespace pushgw::http
