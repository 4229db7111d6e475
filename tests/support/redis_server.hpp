#pragma once
// A real redis-server for tests (on a free loopback port, no persistence, its own temp dir),
// and a small blocking hiredis client to seed and inspect it.

#include <hiredis/hiredis.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "support/process.hpp"

namespace pushgw::test {

// A TLS-only server: its TCP port speaks TLS (no plain port); the tests' own checks
// (SyncRedis, the start-up PING) go through a unix socket in its directory instead.
struct RedisServerTls {
  std::string ca_file;     // clients' certificates are checked against it
  std::string cert_file;   // the server's certificate and key
  std::string key_file;
  bool require_client_cert = false;   // --tls-auth-clients yes
};

struct RedisServerOptions {
  std::string password;                 // --requirepass; empty = none
  std::optional<RedisServerTls> tls;
  // Non-empty: run as a Redis Sentinel with this configuration ("sentinel monitor ..." lines),
  // written to sentinel.conf in its directory, which the sentinel rewrites as it learns.
  std::string sentinel_config;
  std::vector<std::string> extra_args;  // appended to the command line, e.g. {"--maxclients", "50"}
  std::chrono::milliseconds start_timeout{10000};
};

// Starts redis-server (found on PATH) in the constructor and waits until it answers PING.
// Throws std::runtime_error with a message that says what to do when redis-server is missing
// or does not come up (the message includes its log).
class RedisServer {
 public:
  explicit RedisServer(RedisServerOptions options = {});
  ~RedisServer();
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  // Starts it again on the same port (after stop()); a no-op while it runs.
  void start();
  // SIGTERM and wait: clients see their connections closed.
  void stop();
  bool running();
  // The server's process id (to stop it with SIGSTOP, as a stalled Redis), -1 when stopped.
  int pid() const;

  std::string host() const { return "127.0.0.1"; }
  std::uint16_t port() const { return port_; }
  const std::string& password() const { return options_.password; }
  // "redis://127.0.0.1:P/0", or "redis://:PASSWORD@127.0.0.1:P/0" when it has a password;
  // rediss:// for a TLS server.
  std::string url() const;
  bool tls() const { return options_.tls.has_value(); }
  // The unix socket a TLS server also listens on (for the tests' checks); empty otherwise.
  std::string unix_socket() const;
  const std::filesystem::path& dir() const { return dir_.path(); }
  // Everything redis-server has logged so far (for failure messages).
  std::string log() const;

 private:
  RedisServerOptions options_;
  TempDir dir_;
  std::uint16_t port_ = 0;
  std::optional<ChildProcess> process_;
};

struct ReplyDeleter {
  void operator()(redisReply* reply) const { freeReplyObject(reply); }
};
using ReplyPtr = std::unique_ptr<redisReply, ReplyDeleter>;

// Blocking hiredis connection for test set-up and checks. Throws std::runtime_error when the
// connection fails or breaks; a Redis error reply is returned (type REDIS_REPLY_ERROR), and the
// conveniences throw on one.
class SyncRedis {
 public:
  SyncRedis(const std::string& host, std::uint16_t port, const std::string& password = {},
            int db = 0, std::chrono::milliseconds timeout = std::chrono::milliseconds(5000));
  // Through a unix socket.
  SyncRedis(const std::string& unix_socket, const std::string& password, int db = 0,
            std::chrono::milliseconds timeout = std::chrono::milliseconds(5000));
  // Through the server's port, or its unix socket when it is TLS-only.
  explicit SyncRedis(const RedisServer& server, int db = 0);
  ~SyncRedis();
  SyncRedis(const SyncRedis&) = delete;
  SyncRedis& operator=(const SyncRedis&) = delete;

  ReplyPtr command(const std::vector<std::string>& argv);

  std::vector<std::string> lrange(const std::string& key, long long start = 0,
                                  long long stop = -1);
  long long llen(const std::string& key);
  long long zcard(const std::string& key);
  long long del(const std::vector<std::string>& keys);
  std::optional<std::string> get(const std::string& key);
  void flushall();

 private:
  void open(redisContext* context, std::chrono::milliseconds timeout);  // throws when it failed
  void authenticate(const std::string& password, int db);
  ReplyPtr checked(const std::vector<std::string>& argv);  // throws on an error reply
  long long integer(const std::vector<std::string>& argv);

  redisContext* context_ = nullptr;
  std::string where_;  // "127.0.0.1:P" for messages
};

}  // namespace pushgw::test
