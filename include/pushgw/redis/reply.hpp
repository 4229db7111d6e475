#pragma once
// RESP values and command building. Pure: no I/O (commands written here, replies parsed by
// hiredis; see client.hpp).

#include <cstdint>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pushgw::redis {

struct Reply {
  enum class Type { string, status, error, integer, nil, array };
  Type type = Type::nil;
  std::string str;                 // string, status and error
  std::int64_t integer = 0;
  std::vector<Reply> elements;     // array

  bool is_error() const { return type == Type::error; }
  bool is_nil() const { return type == Type::nil; }
  bool operator==(const Reply&) const = default;
};

// Text in the style of redis-cli, for logs and test failures: a status as is, an error as
// (error) ERR ..., a string quoted with bytes other than printable ASCII as \xNN, an integer as
// (integer) 5, nil as (nil), an array as [a, b].
std::ostream& operator<<(std::ostream& out, const Reply& reply);

// A pipeline of commands sent in one write; exec() answers with one Reply per command.
class Request {
 public:
  // push("LPUSH", key, value1, value2): each argument is sent as a binary-safe bulk string.
  template <class... Args>
  void push(std::string_view command, const Args&... args) {
    std::vector<std::string_view> argv{command, std::string_view(args)...};
    push_argv(argv);
  }
  // The command and its arguments as one list (for a variable number of values).
  // GCC 12 rejects ("array used as initializer") a braced list written inside a co_await
  // expression: build the Request in a statement of its own before co_await client.exec().
  // Throws std::invalid_argument for an empty list: Redis answers nothing to it, which would
  // leave the request waiting for a reply that never comes.
  void push_argv(const std::vector<std::string_view>& argv);

  std::size_t size() const { return starts_.size(); }
  const std::string& payload() const { return payload_; }  // RESP bytes to write

  // For Redis Cluster, which sends each command to its slot's master: command `i`'s RESP
  // bytes, its name as pushed, and the argument it is routed by (routing_argument in
  // cluster_slots.hpp), nullopt for a command without a key. Read back from the bytes when
  // asked, so that building a request for one server does no routing work.
  std::string_view command_bytes(std::size_t i) const;
  std::string_view name(std::size_t i) const;
  std::optional<std::string_view> key(std::size_t i) const;
  // Command `i`'s arguments (its name first), parsed once for a caller that needs several.
  std::vector<std::string_view> arguments(std::size_t i) const;
  // Appends command `i` of `other` as it is.
  void push_command_of(const Request& other, std::size_t i);

 private:
  std::string payload_;
  std::vector<std::size_t> starts_;  // where each command begins in payload_
};

// Incremental RESP parser (hiredis's redisReader): feed bytes as they arrive from the socket
// and take out each reply once all of its bytes are there.
class ReplyParser {
 public:
  ReplyParser();
  ~ReplyParser();
  ReplyParser(ReplyParser&&) noexcept;
  ReplyParser& operator=(ReplyParser&&) noexcept;

  void feed(std::string_view bytes);
  // The next complete reply, or nullopt when more bytes are needed or the bytes are not RESP
  // (then failed() is true, error() says why, and the parser stays failed).
  std::optional<Reply> next();
  bool failed() const { return !error_.empty(); }
  const std::string& error() const { return error_; }

 private:
  struct ReaderDeleter {
    void operator()(void* reader) const;
  };
  std::unique_ptr<void, ReaderDeleter> reader_;  // redisReader*, kept out of this header
  std::string error_;
};

}  // namespace pushgw::redis
