#pragma once
// Redis client in the shape of Boost.Redis: one owner coroutine per connection does all the
// I/O (connect, AUTH/SELECT, write, read, reconnect with backoff); any number of callers
// co_await exec() and their requests are pipelined on the one connection. hiredis is used
// only to parse replies; commands are written as RESP by Request.
//
// Blocking commands (BLMOVE, BRPOP) must get a Client of their own (with command_timeout 0 or
// longer than the block): a blocked connection cannot pipeline. A Client with on_push set is a
// subscriber (SUBSCRIBE, SSUBSCRIBE and their UNSUBSCRIBE, one channel per command so each
// command has one reply): the messages Redis pushes go to on_push, replies to exec(); it must
// not run other commands. MONITOR is not supported.

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/system/error_code.hpp>

#include "pushgw/config/config.hpp"
#include "pushgw/redis/reply.hpp"

namespace boost::asio::ssl {
class context;
}

namespace pushgw::redis {

class ClusterRouter;

enum class error {
  not_connected = 1,   // the connection is down; the request was not sent
  timeout,             // no reply within the command timeout
  connection_lost,     // the connection dropped after the request was written
  protocol,            // the server sent bytes that are not RESP
  auth_failed,         // AUTH or SELECT was refused
  tls_failed,          // the TLS handshake failed (untrusted or wrong certificate, not TLS, ...)
  sentinel_failed,     // no sentinel gave the master's address (unreachable, unknown master name)
  cluster_failed,      // no cluster node gave the slot map, or a slot has no master
  not_master,          // the server is a replica (Sentinel mode: a failover is under way)
  stopped,             // the client is stopping
  unexpected_reply,    // for callers: Redis answered with an error, or a reply of the wrong type
};
const boost::system::error_category& error_category();
inline boost::system::error_code make_error_code(error e) { return {static_cast<int>(e), error_category()}; }

struct ClientConfig {
  config::RedisEndpoint endpoint;
  std::chrono::milliseconds connect_timeout{2000};
  std::chrono::milliseconds command_timeout{2000};   // 0 = none (blocking commands)
  std::chrono::milliseconds reconnect_min{100};
  std::chrono::milliseconds reconnect_max{5000};
  std::string name = "pushgw";                        // CLIENT SETNAME, visible in CLIENT LIST
  // For rediss://: the TLS context (make_tls_context) and the name the server's certificate
  // must carry (also sent as SNI unless it is an IP address); empty = the host connected to.
  // Null = plain TCP.
  std::shared_ptr<boost::asio::ssl::context> tls;
  std::string tls_server_name;

  // Sentinel mode (when `sentinels` is not empty): every connect asks the sentinels, the last
  // one that answered first, for the address of `sentinel_master` (endpoint.host and port are
  // not used) and accepts the server only if its ROLE is master; a READONLY reply (the master
  // became a replica) drops the connection, so the next connect asks again.
  std::vector<config::HostPort> sentinels;
  std::string sentinel_master;

  // Redis Cluster mode (when not empty): the seeds the slot map is read from (endpoint.host
  // and port are not used; the db is 0). Each command goes to its slot's master on a
  // connection of its own per master; see src/redis/cluster.hpp.
  std::vector<config::HostPort> cluster_nodes;

  // For a subscriber: each message Redis pushes (["message", channel, payload] or
  // ["smessage", ...]), on the client's executor, in the order Redis sent them.
  std::function<void(const Reply&)> on_push;
  // On the client's executor each time a connection is up (after the handshake), before any
  // request goes out on it: a subscriber subscribes again here (a new connection has none).
  std::function<void()> on_connected;
};

// A client of the configured Redis (redis.url, redis.tls and the timeouts), named `name` in
// CLIENT LIST. The url must have passed config validation; throws std::invalid_argument
// naming the file when redis.tls's files cannot be used.
ClientConfig client_config(const config::Config& config, std::string name);

// How long to wait before reconnect attempt `attempt` (0 for the first after a failure):
// reconnect_min doubled per attempt, capped at reconnect_max, then scaled by a jitter factor
// in [0.5, 1] taken from `jitter` in [0, 1], so that many clients do not reconnect in step.
std::chrono::milliseconds reconnect_delay(const ClientConfig& config, unsigned attempt,
                                          double jitter);

struct Result {
  boost::system::error_code ec;     // set when the request failed as a whole
  std::vector<Reply> replies;       // one per command when !ec (a Reply may be an error)
};

class Client {
 public:
  Client(boost::asio::any_io_executor executor, ClientConfig config);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Spawns the owner coroutine; it connects and keeps reconnecting until stop(). Once: a
  // stopped client does not start again.
  void start();
  // Stops reconnecting, closes the socket and fails pending requests with error::stopped.
  // The destructor calls it; destroy the Client before its execution context.
  void stop();

  // Sends the request (pipelined with other callers') and waits for its replies.
  // Fails fast with not_connected while the connection is down; never throws for Redis or
  // network errors. A request failed with not_connected was not sent (safe to retry); one
  // failed with connection_lost or timeout may have been executed. Callers may run on
  // another executor (the work hops to the client's); cancelling the caller abandons the
  // request (the result is operation_aborted and late replies are discarded).
  boost::asio::awaitable<Result> exec(Request request);

  // True once the connection is up and the handshake (AUTH, SELECT, CLIENT SETNAME) is done.
  // Safe to call from any thread.
  bool connected() const;
  // Why the last connection attempt failed or the last connection ended (auth_failed,
  // connection_refused, timed_out, ...); cleared when a handshake succeeds. Any thread.
  boost::system::error_code last_error() const;
  // last_error in words with what the server or TLS said, e.g. "TLS handshake with Redis
  // failed: the certificate is not trusted for redis.internal: unable to get local issuer
  // certificate"; empty when there is none. Any thread.
  std::string last_error_text() const;
  // The server this client connects to, for /readyz and logs: "127.0.0.1:6379/0", in
  // Sentinel mode "master mymaster at 10.0.0.7:6379/0" once a sentinel has named it, in
  // Cluster mode "cluster of 3 master(s): 10.0.0.7:6379, ...". Any thread.
  std::string server() const;

 private:
  friend class ClusterRouter;
  // exec() without copying the request: the cluster router may have to resend part of it.
  boost::asio::awaitable<Result> exec_shared(std::shared_ptr<const Request> request);

  struct Impl;
  std::shared_ptr<Impl> impl_;
  std::shared_ptr<ClusterRouter> cluster_;  // Cluster mode: does the work instead of impl_
};

}  // namespace pushgw::redis

namespace boost::system {
template <>
struct is_error_code_enum<pushgw::redis::error> : std::true_type {};
}  // namespace boost::system
