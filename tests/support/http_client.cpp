#include "support/http_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace pushgw::test {
namespace {

HttpResponse parse_response(const std::string& data) {
  HttpResponse out;
  const auto head_end = data.find("\r\n\r\n");
  if (head_end == std::string::npos) {
    out.error = "incomplete response (" + std::to_string(data.size()) + " bytes)";
    return out;
  }
  const std::string head = data.substr(0, head_end);
  std::size_t line_end = head.find("\r\n");
  const std::string status_line = head.substr(0, line_end);
  if (status_line.rfind("HTTP/1.", 0) != 0 || status_line.size() < 12) {
    out.error = "bad status line: " + status_line;
    return out;
  }
  out.status = std::stoi(status_line.substr(9, 3));
  while (line_end != std::string::npos) {
    const std::size_t start = line_end + 2;
    line_end = head.find("\r\n", start);
    std::string line = head.substr(start, line_end == std::string::npos ? std::string::npos : line_end - start);
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string name = line.substr(0, colon);
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.erase(0, 1);
    out.headers[name] = value;
  }
  out.body = data.substr(head_end + 4);
  if (auto it = out.headers.find("content-length"); it != out.headers.end()) {
    const auto length = std::stoul(it->second);
    if (out.body.size() > length) out.body.resize(length);
  }
  return out;
}

}  // namespace

RawConnection::RawConnection(std::uint16_t port) {
  fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    error_ = std::string("connect: ") + std::strerror(errno);
    ::close(fd_);
    fd_ = -1;
  }
}

RawConnection::~RawConnection() {
  if (fd_ >= 0) ::close(fd_);
}

void RawConnection::send(const std::string& bytes) {
  // A server that answers early (413) and closes may make writes fail: the answer is still
  // there to read.
  std::size_t sent = 0;
  while (fd_ >= 0 && sent < bytes.size()) {
    pollfd p{fd_, POLLOUT, 0};
    if (::poll(&p, 1, 10000) <= 0) break;
    const auto n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<std::size_t>(n);
  }
}

HttpResponse RawConnection::read_response(std::chrono::milliseconds timeout) {
  HttpResponse failed;
  if (fd_ < 0) {
    failed.error = error_;
    return failed;
  }
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string data;
  char buffer[16384];
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    pollfd p{fd_, POLLIN, 0};
    if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) {
      if (data.empty()) failed.error = "timeout waiting for the response";
      break;
    }
    const auto n = ::recv(fd_, buffer, sizeof buffer, 0);
    if (n <= 0) break;
    data.append(buffer, static_cast<std::size_t>(n));
  }
  if (data.empty()) {
    if (failed.error.empty()) failed.error = "connection closed without a response";
    return failed;
  }
  auto response = parse_response(data);
  response.raw = std::move(data);
  return response;
}

HttpResponse raw_request(std::uint16_t port, const std::string& raw, std::chrono::milliseconds timeout) {
  RawConnection connection(port);
  connection.send(raw);
  return connection.read_response(timeout);
}

HttpResponse http_request(std::uint16_t port, const HttpRequest& request, std::chrono::milliseconds timeout) {
  std::string raw = request.method + " " + request.target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  for (const auto& [name, value] : request.headers) raw += name + ": " + value + "\r\n";
  if (!request.body.empty() || request.method == "POST") {
    raw += "Content-Length: " + std::to_string(request.body.size()) + "\r\n";
  }
  raw += "Connection: close\r\n\r\n" + request.body;
  return raw_request(port, raw, timeout);
}

HttpResponse post_json(std::uint16_t port, const std::string& target, const std::string& body,
                       std::vector<std::pair<std::string, std::string>> headers) {
  headers.emplace_back("Content-Type", "application/json");
  return http_request(port, HttpRequest{"POST", target, std::move(headers), body});
}

HttpResponse get(std::uint16_t port, const std::string& target) {
  return http_request(port, HttpRequest{"GET", target, {}, {}});
}

}  // namespace pushgw::test
