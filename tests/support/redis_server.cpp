#include "support/redis_server.hpp"

#include <unistd.h>

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace pushgw::test {

namespace {

// redis-server's full path, or "" when it is not on PATH.
std::string find_on_path(const std::string& program) {
  std::istringstream path(env_or("PATH", "/usr/local/bin:/usr/bin:/bin"));
  std::string dir;
  while (std::getline(path, dir, ':')) {
    const std::filesystem::path candidate = std::filesystem::path(dir.empty() ? "." : dir) / program;
    if (::access(candidate.c_str(), X_OK) == 0) {
      return candidate.string();
    }
  }
  return {};
}

timeval to_timeval(std::chrono::milliseconds ms) {
  timeval tv{};
  tv.tv_sec = static_cast<decltype(tv.tv_sec)>(ms.count() / 1000);
  tv.tv_usec = static_cast<decltype(tv.tv_usec)>((ms.count() % 1000) * 1000);
  return tv;
}

// Does the server answer PING (authenticating when it has a password)?
bool answers_ping(const RedisServer& server) {
  try {
    std::optional<SyncRedis> connection;
    if (server.tls()) {
      connection.emplace(server.unix_socket(), server.password(), 0, std::chrono::milliseconds(500));
    } else {
      connection.emplace(server.host(), server.port(), server.password(), 0, std::chrono::milliseconds(500));
    }
    ReplyPtr pong = connection->command({"PING"});
    return pong->type == REDIS_REPLY_STATUS && std::string(pong->str, pong->len) == "PONG";
  } catch (const std::runtime_error&) {
    return false;
  }
}

}  // namespace

RedisServer::RedisServer(RedisServerOptions options)
    : options_(std::move(options)), dir_("pushgw-redis"), port_(free_tcp_port()) {
  start();
}

RedisServer::~RedisServer() {
  if (process_) {
    process_->terminate(std::chrono::milliseconds(5000));
  }
}

void RedisServer::start() {
  if (process_ && process_->running()) {
    return;
  }
  const std::string program = find_on_path("redis-server");
  if (program.empty()) {
    throw std::runtime_error(
        "redis-server was not found on PATH; the Redis tests need a real server "
        "(Debian: apt-get install redis-server)");
  }
  std::vector<std::string> argv = {program,        "--save",         "",
                                   "--appendonly", "no",             "--port",
                                   std::to_string(port_),            "--bind",
                                   host(),         "--dir",          dir().string()};
  if (!options_.password.empty()) {
    argv.insert(argv.end(), {"--requirepass", options_.password});
  }
  if (const auto& tls = options_.tls) {
    argv[6] = "0";  // no plain TCP port
    argv.insert(argv.end(), {"--tls-port", std::to_string(port_), "--tls-cert-file", tls->cert_file,
                             "--tls-key-file", tls->key_file, "--tls-ca-cert-file", tls->ca_file,
                             "--tls-auth-clients", tls->require_client_cert ? "yes" : "no",
                             "--unixsocket", unix_socket(), "--unixsocketperm", "700"});
  }
  argv.insert(argv.end(), options_.extra_args.begin(), options_.extra_args.end());
  if (!options_.sentinel_config.empty()) {
    const auto conf = dir() / "sentinel.conf";
    if (!std::filesystem::exists(conf)) std::ofstream(conf) << options_.sentinel_config;
    argv = {program, conf.string(), "--sentinel", "--port", std::to_string(port_), "--bind", host(),
            "--dir", dir().string()};
  }
  process_.emplace(argv, dir() / "redis-server.log");

  const auto deadline = std::chrono::steady_clock::now() + options_.start_timeout;
  for (;;) {
    if (!process_->running()) {
      const std::string log_text = process_->log();
      process_.reset();
      throw std::runtime_error("redis-server exited during start-up on port " +
                               std::to_string(port_) + "; its log:\n" + log_text);
    }
    if (answers_ping(*this)) {
      return;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      const std::string log_text = process_->log();
      process_.reset();  // kills it
      throw std::runtime_error("redis-server did not answer PING on port " +
                               std::to_string(port_) + " within " +
                               std::to_string(options_.start_timeout.count()) +
                               " ms; its log:\n" + log_text);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

void RedisServer::stop() {
  if (process_) {
    process_->terminate(std::chrono::milliseconds(10000));
    process_.reset();
  }
}

bool RedisServer::running() { return process_ && process_->running(); }

int RedisServer::pid() const { return process_ ? static_cast<int>(process_->pid()) : -1; }

std::string RedisServer::url() const {
  const std::string credentials = options_.password.empty() ? "" : ":" + options_.password + "@";
  return (tls() ? "rediss://" : "redis://") + credentials + host() + ":" + std::to_string(port_) + "/0";
}

std::string RedisServer::unix_socket() const { return tls() ? (dir() / "redis.sock").string() : std::string(); }

std::string RedisServer::log() const {
  if (process_) {
    return process_->log();
  }
  std::ifstream in(dir() / "redis-server.log", std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

SyncRedis::SyncRedis(const std::string& host, std::uint16_t port, const std::string& password,
                     int db, std::chrono::milliseconds timeout)
    : where_(host + ":" + std::to_string(port)) {
  open(redisConnectWithTimeout(host.c_str(), port, to_timeval(timeout)), timeout);
  authenticate(password, db);
}

SyncRedis::SyncRedis(const std::string& unix_socket, const std::string& password, int db,
                     std::chrono::milliseconds timeout)
    : where_(unix_socket) {
  open(redisConnectUnixWithTimeout(unix_socket.c_str(), to_timeval(timeout)), timeout);
  authenticate(password, db);
}

SyncRedis::SyncRedis(const RedisServer& server, int db)
    : where_(server.tls() ? server.unix_socket() : server.host() + ":" + std::to_string(server.port())) {
  const auto timeout = std::chrono::milliseconds(5000);
  open(server.tls() ? redisConnectUnixWithTimeout(server.unix_socket().c_str(), to_timeval(timeout))
                    : redisConnectWithTimeout(server.host().c_str(), server.port(), to_timeval(timeout)),
       timeout);
  authenticate(server.password(), db);
}

void SyncRedis::open(redisContext* context, std::chrono::milliseconds timeout) {
  context_ = context;
  if (context_ == nullptr) {
    throw std::runtime_error("SyncRedis: cannot allocate a hiredis context for " + where_);
  }
  if (context_->err != 0) {
    const std::string message = context_->errstr;
    redisFree(context_);
    context_ = nullptr;
    throw std::runtime_error("SyncRedis: cannot connect to " + where_ + ": " + message);
  }
  redisSetTimeout(context_, to_timeval(timeout));
}

void SyncRedis::authenticate(const std::string& password, int db) {
  try {
    if (!password.empty()) {
      checked({"AUTH", password});
    }
    if (db != 0) {
      checked({"SELECT", std::to_string(db)});
    }
  } catch (...) {
    redisFree(context_);
    context_ = nullptr;
    throw;
  }
}

SyncRedis::~SyncRedis() {
  if (context_ != nullptr) {
    redisFree(context_);
  }
}

ReplyPtr SyncRedis::command(const std::vector<std::string>& argv) {
  std::vector<const char*> pointers;
  std::vector<std::size_t> lengths;
  for (const std::string& arg : argv) {
    pointers.push_back(arg.data());
    lengths.push_back(arg.size());
  }
  void* reply = redisCommandArgv(context_, static_cast<int>(argv.size()), pointers.data(),
                                 lengths.data());
  if (reply == nullptr) {
    throw std::runtime_error("SyncRedis: " + (argv.empty() ? std::string("?") : argv[0]) +
                             " to " + where_ + " failed: " + context_->errstr);
  }
  return ReplyPtr(static_cast<redisReply*>(reply));
}

ReplyPtr SyncRedis::checked(const std::vector<std::string>& argv) {
  ReplyPtr reply = command(argv);
  if (reply->type == REDIS_REPLY_ERROR) {
    throw std::runtime_error("SyncRedis: " + argv[0] + " to " + where_ + " answered " +
                             std::string(reply->str, reply->len));
  }
  return reply;
}

long long SyncRedis::integer(const std::vector<std::string>& argv) {
  ReplyPtr reply = checked(argv);
  if (reply->type != REDIS_REPLY_INTEGER) {
    throw std::runtime_error("SyncRedis: " + argv[0] + " did not answer an integer");
  }
  return reply->integer;
}

std::vector<std::string> SyncRedis::lrange(const std::string& key, long long start,
                                           long long stop) {
  ReplyPtr reply = checked({"LRANGE", key, std::to_string(start), std::to_string(stop)});
  std::vector<std::string> values;
  for (std::size_t i = 0; i < reply->elements; ++i) {
    values.emplace_back(reply->element[i]->str, reply->element[i]->len);
  }
  return values;
}

long long SyncRedis::llen(const std::string& key) { return integer({"LLEN", key}); }

long long SyncRedis::zcard(const std::string& key) { return integer({"ZCARD", key}); }

long long SyncRedis::del(const std::vector<std::string>& keys) {
  std::vector<std::string> argv{"DEL"};
  argv.insert(argv.end(), keys.begin(), keys.end());
  return integer(argv);
}

std::optional<std::string> SyncRedis::get(const std::string& key) {
  ReplyPtr reply = checked({"GET", key});
  if (reply->type == REDIS_REPLY_NIL) {
    return std::nullopt;
  }
  return std::string(reply->str, reply->len);
}

void SyncRedis::flushall() { checked({"FLUSHALL"}); }

}  // namespace pushgw::test
