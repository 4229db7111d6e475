#pragma once
// Live web clients for end-to-end tests: an SSE reader and a WebSocket client, each with its
// own io_context driven from the test thread with a bound on every wait (Beast, but nothing
// shared with the server under test beyond the protocol).

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace pushgw::test {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct SseEvent {
  std::string id;
  std::string event;
  std::string data;
};

class SseClient {
 public:
  // GET `target` from 127.0.0.1:port; reads the response head (and the whole body of a refusal).
  SseClient(std::uint16_t port, const std::string& target, const HeaderList& headers = {});
  ~SseClient();
  SseClient(const SseClient&) = delete;
  SseClient& operator=(const SseClient&) = delete;

  int status() const { return status_; }
  const std::map<std::string, std::string>& headers() const { return headers_; }
  const std::string& body() const { return body_; }  // a refusal's
  // The next event (comments skipped), or nullopt when none came within `limit` or the stream ended.
  std::optional<SseEvent> next(std::chrono::milliseconds limit = std::chrono::seconds(10));
  // Heartbeat comments seen so far.
  int comments() const { return comments_; }
  // True once the server closed the stream (reading until then, up to `limit`).
  bool closed_by_server(std::chrono::milliseconds limit = std::chrono::seconds(10));
  // Shrinks the socket's receive buffer and stops reading: a slow client.
  void stall();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  int status_ = 0;
  std::map<std::string, std::string> headers_;
  std::string body_;
  int comments_ = 0;
};

class WsClient {
 public:
  // Opens ws://127.0.0.1:port`target`. A refused upgrade leaves open() false and status() the
  // HTTP status.
  WsClient(std::uint16_t port, const std::string& target, const HeaderList& headers = {});
  ~WsClient();
  WsClient(const WsClient&) = delete;
  WsClient& operator=(const WsClient&) = delete;

  bool open() const { return open_; }
  int status() const { return status_; }
  // The next text message, or nullopt after `limit` or when the server closed (see close_code()).
  std::optional<std::string> next(std::chrono::milliseconds limit = std::chrono::seconds(10));
  // The close code the server sent (0 while open or when it just dropped the connection).
  int close_code() const { return close_code_; }
  std::string close_reason() const { return close_reason_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  bool open_ = false;
  int status_ = 0;
  int close_code_ = 0;
  std::string close_reason_;
};

}  // namespace pushgw::test
