#pragma once
// A deliberately plain blocking HTTP/1.1 client for end-to-end tests: POSIX sockets, one
// request per connection, no shared code with the server under test. It can also send raw
// bytes, to test what the server does with malformed or oversized requests.

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace pushgw::test {

struct HttpResponse {
  int status = 0;                              // 0 when the connection failed or closed early
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
  std::string error;                           // why status is 0
  std::string raw;                             // every byte received (several responses on keep-alive)
};

struct HttpRequest {
  std::string method = "GET";
  std::string target = "/";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

// Sends the request to 127.0.0.1:port with Content-Length and Connection: close.
HttpResponse http_request(std::uint16_t port, const HttpRequest& request,
                          std::chrono::milliseconds timeout = std::chrono::seconds(10));

// POST with Content-Type: application/json (plus extra headers).
HttpResponse post_json(std::uint16_t port, const std::string& target, const std::string& body,
                       std::vector<std::pair<std::string, std::string>> headers = {});
HttpResponse get(std::uint16_t port, const std::string& target);

// One connection driven by hand: write some bytes, wait, write more, then read the answer
// (the server must close the connection after it, as it does for Connection: close).
class RawConnection {
 public:
  explicit RawConnection(std::uint16_t port);
  ~RawConnection();
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  bool connected() const { return fd_ >= 0; }
  void send(const std::string& bytes);
  HttpResponse read_response(std::chrono::milliseconds timeout = std::chrono::seconds(10));

 private:
  int fd_ = -1;
  std::string error_;
};

// Writes `raw` as is and reads the answer until the server closes.
HttpResponse raw_request(std::uint16_t port, const std::string& raw,
                         std::chrono::milliseconds timeout = std::chrono::seconds(10));

}  // namespace pushgw::test
