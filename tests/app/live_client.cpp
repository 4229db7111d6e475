#include "live_client.hpp"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

namespace pushgw::test {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

namespace {

// Runs `io` until `done` or `limit`; false when the limit came first.
bool run_until(asio::io_context& io, const bool& done, std::chrono::milliseconds limit) {
  const auto until = std::chrono::steady_clock::now() + limit;
  io.restart();
  while (!done) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= until) return false;
    io.run_one_for(until - now);
  }
  return true;
}

}  // namespace

struct SseClient::Impl {
  asio::io_context io;
  tcp::socket socket{io};
  beast::flat_buffer buffer;
  std::string pending;  // event-stream text not yet split into events
  bool ended = false;
};

SseClient::SseClient(std::uint16_t port, const std::string& target, const HeaderList& headers)
    : impl_(std::make_unique<Impl>()) {
  beast::error_code ec;
  impl_->socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), ec);
  if (ec) return;
  bhttp::request<bhttp::empty_body> req{bhttp::verb::get, target, 11};
  req.set(bhttp::field::host, "127.0.0.1");
  req.set(bhttp::field::accept, "text/event-stream");
  for (const auto& [name, value] : headers) req.set(name, value);
  bhttp::write(impl_->socket, req, ec);
  if (ec) return;
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(1024 * 1024);
  bool done = false;
  bhttp::async_read_header(impl_->socket, impl_->buffer, parser, [&](beast::error_code e, std::size_t) {
    ec = e;
    done = true;
  });
  if (!run_until(impl_->io, done, std::chrono::seconds(10)) || ec) return;
  status_ = static_cast<int>(parser.get().result_int());
  for (const auto& field : parser.get()) {
    std::string name(field.name_string());
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    headers_[name] = std::string(field.value());
  }
  if (status_ != 200) {
    done = false;
    bhttp::async_read(impl_->socket, impl_->buffer, parser, [&](beast::error_code, std::size_t) { done = true; });
    run_until(impl_->io, done, std::chrono::seconds(10));
    body_ = parser.get().body();
    return;
  }
  // What came with the head belongs to the stream.
  impl_->pending = beast::buffers_to_string(impl_->buffer.data());
  impl_->buffer.consume(impl_->buffer.size());
}

SseClient::~SseClient() = default;

std::optional<SseEvent> SseClient::next(std::chrono::milliseconds limit) {
  const auto until = std::chrono::steady_clock::now() + limit;
  for (;;) {
    // One event ends with a blank line.
    while (true) {
      const std::size_t end = impl_->pending.find("\n\n");
      if (end == std::string::npos) break;
      const std::string block = impl_->pending.substr(0, end);
      impl_->pending.erase(0, end + 2);
      SseEvent event;
      bool has_field = false;
      std::size_t pos = 0;
      while (pos <= block.size()) {
        std::size_t eol = block.find('\n', pos);
        if (eol == std::string::npos) eol = block.size();
        const std::string line = block.substr(pos, eol - pos);
        pos = eol + 1;
        if (line.empty()) continue;
        if (line[0] == ':') {
          ++comments_;
          continue;
        }
        const std::size_t colon = line.find(':');
        const std::string field = line.substr(0, colon);
        std::string value = colon == std::string::npos ? "" : line.substr(colon + 1);
        if (!value.empty() && value[0] == ' ') value.erase(0, 1);
        if (field == "id") event.id = value, has_field = true;
        if (field == "event") event.event = value, has_field = true;
        if (field == "data") event.data += (event.data.empty() ? "" : "\n") + value, has_field = true;
      }
      if (has_field && !event.data.empty()) return event;
    }
    if (impl_->ended) return std::nullopt;
    const auto now = std::chrono::steady_clock::now();
    if (now >= until) return std::nullopt;
    std::array<char, 4096> chunk{};
    bool done = false;
    beast::error_code ec;
    std::size_t n = 0;
    impl_->socket.async_read_some(asio::buffer(chunk), [&](beast::error_code e, std::size_t got) {
      ec = e;
      n = got;
      done = true;
    });
    if (!run_until(impl_->io, done, std::chrono::duration_cast<std::chrono::milliseconds>(until - now))) {
      impl_->socket.cancel();
      run_until(impl_->io, done, std::chrono::seconds(5));
      return std::nullopt;
    }
    if (ec) {
      impl_->ended = true;
      continue;
    }
    impl_->pending.append(chunk.data(), n);
  }
}

bool SseClient::closed_by_server(std::chrono::milliseconds limit) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (!impl_->ended) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= until) return false;
    next(std::chrono::duration_cast<std::chrono::milliseconds>(until - now));
  }
  return true;
}

void SseClient::stall() {
  beast::error_code ec;
  impl_->socket.set_option(asio::socket_base::receive_buffer_size(4096), ec);
}

struct WsClient::Impl {
  asio::io_context io;
  websocket::stream<tcp::socket> ws{io};
  beast::flat_buffer buffer;
};

WsClient::WsClient(std::uint16_t port, const std::string& target, const HeaderList& headers)
    : impl_(std::make_unique<Impl>()) {
  beast::error_code ec;
  beast::get_lowest_layer(impl_->ws).connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), ec);
  if (ec) return;
  impl_->ws.set_option(websocket::stream_base::decorator([headers](websocket::request_type& req) {
    for (const auto& [name, value] : headers) req.set(name, value);
  }));
  websocket::response_type response;
  bool done = false;
  impl_->ws.async_handshake(response, "127.0.0.1", target, [&](beast::error_code e) {
    ec = e;
    done = true;
  });
  if (!run_until(impl_->io, done, std::chrono::seconds(10))) return;
  status_ = static_cast<int>(response.result_int());
  open_ = !ec;
}

WsClient::~WsClient() = default;

std::optional<std::string> WsClient::next(std::chrono::milliseconds limit) {
  if (!open_) return std::nullopt;
  bool done = false;
  beast::error_code ec;
  impl_->ws.async_read(impl_->buffer, [&](beast::error_code e, std::size_t) {
    ec = e;
    done = true;
  });
  if (!run_until(impl_->io, done, limit)) {
    beast::get_lowest_layer(impl_->ws).cancel();
    run_until(impl_->io, done, std::chrono::seconds(5));
    open_ = false;  // a cancelled read leaves the websocket unusable
    return std::nullopt;
  }
  if (ec) {
    open_ = false;
    close_code_ = impl_->ws.reason().code;
    close_reason_ = std::string(impl_->ws.reason().reason.c_str());
    return std::nullopt;
  }
  std::string text = beast::buffers_to_string(impl_->buffer.data());
  impl_->buffer.consume(impl_->buffer.size());
  return text;
}

}  // namespace pushgw::test
