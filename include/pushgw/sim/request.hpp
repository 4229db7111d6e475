#pragma once
// The simulator's protocol-neutral request and response: the HTTP/2 and HTTP/1.1 front ends
// fill a Request, a route handler fills the Response. A Request keeps its header text in one
// buffer that is reused from stream to stream, so serving a request allocates little.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pushgw::sim {

class Request {
 public:
  // Forgets the previous request but keeps the capacity.
  void clear();

  void set_method(std::string_view method) { method_.assign(method); }
  void set_path(std::string_view path) { path_.assign(path); }
  void add_header(std::string_view name, std::string_view value);  // name in lower case
  // Appends to the body up to `limit` bytes; body_size() keeps counting beyond it.
  void append_body(std::string_view data, std::size_t limit);

  std::string_view method() const { return method_; }
  std::string_view path() const { return path_; }
  std::string_view body() const { return body_; }
  std::size_t body_size() const { return body_size_; }  // may exceed body().size()
  bool has_header(std::string_view name) const;
  std::string_view header(std::string_view name) const;  // the first one; "" when absent
  std::size_t header_count(std::string_view name) const;
  // Calls f(name, value) for every header, in order (one pass for checks of many headers).
  template <class F>
  void for_each_header(F&& f) const {
    const std::string_view text = header_text_;
    for (const auto& field : fields_) {
      f(text.substr(field.name_offset, field.name_size),
        text.substr(field.value_offset, field.value_size));
    }
  }

 private:
  struct Field {
    std::uint32_t name_offset, name_size, value_offset, value_size;
  };
  std::string method_;
  std::string path_;
  std::string header_text_;
  std::vector<Field> fields_;
  std::string body_;
  std::size_t body_size_ = 0;
};

struct Response {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  bool no_answer = false;         // leave the stream open, never respond (APNs does this)
  std::string reason;             // for statistics: APNs/FCM reason of an error response
  bool delivered = false;         // for statistics: a notification was accepted...
  std::uint64_t delivery_key = 0; // ...identified by token + payload hash
  std::int64_t enqueued_ms = 0;   // the payload's bench_enqueued_ms (0 = none), for latency

  void clear();
  void set_json(int status_code, std::string json_body);
};

// What a route handler may know and change about the connection a request came on.
struct ConnectionContext {
  bool http2 = true;
  bool authorized = false;   // a request passed provider authentication on this connection
};

}  // namespace pushgw::sim
