#pragma once
// RESP values and command building. Pure: no I/O (hiredis formats and parses; see client.hpp).

#include <cstdint>
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
  void push_argv(const std::vector<std::string_view>& argv);

  std::size_t size() const { return commands_; }
  const std::string& payload() const { return payload_; }  // RESP bytes to write

 private:
  std::string payload_;
  std::size_t commands_ = 0;
};

}  // namespace pushgw::redis
