// pushgw-webload: the client side of bench/web. Opens many live web connections (SSE or
// WebSocket) to one pushgw from several 127.0.0.x source addresses, then, by mode:
//   idle    holds them until stdin closes (bench/web/run measures the daemon's memory)
//   fanout  every connection on one channel; POSTs --messages notifications one at a time
//   spread  connection i on channel ch:i; POSTs --rate notifications a second, each to a
//           random channel, for --seconds: one POST every --interval-ms (default 10) with
//           that interval's share
// and prints one JSON line: connections opened and failed, and for fanout/spread the latency
// from the POST (the generator's clock, carried in the notification's data) to the receipt,
// in ms: count, p50, p90, p99, max, and messages expected but not received.
// One thread, Asio + Beast; connection opening is paced (--concurrency at a time).

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include "pushgw/web/client_token.hpp"

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using beast::error_code;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

struct Options {
  std::uint16_t port = 8088;
  std::string mode = "idle";
  std::string transport = "sse";  // sse | ws | mixed
  std::size_t connections = 1000;
  int sources = 8;                // 127.0.0.1 .. 127.0.0.<sources>
  std::size_t concurrency = 512;  // connections being opened at once
  std::string secret;
  std::string api_key;
  int messages = 20;              // fanout
  int rate = 10000;               // spread: notifications a second
  int seconds = 10;               // spread
  int interval_ms = 10;           // spread: one POST per interval
};

std::int64_t now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct Stats {
  std::size_t opened = 0, failed = 0, closed = 0;
  std::vector<double> latencies_ms;
};

// The "t" (µs) the generator put in the notification's data.
void record(Stats& stats, std::string_view message) {
  const auto at = message.find("\"t\":");
  if (at == std::string_view::npos) return;
  const std::int64_t sent = std::strtoll(message.data() + at + 4, nullptr, 10);
  stats.latencies_ms.push_back(static_cast<double>(now_us() - sent) / 1000.0);
}

asio::awaitable<bool> connect_from(tcp::socket& socket, int source, std::uint16_t port) {
  socket.open(tcp::v4());
  socket.set_option(asio::socket_base::reuse_address(true));
  error_code ec;
  socket.bind(tcp::endpoint(asio::ip::make_address_v4("127.0.0." + std::to_string(source)), 0), ec);
  if (ec) co_return false;
  auto [connect_ec] = co_await socket.async_connect(tcp::endpoint(asio::ip::make_address_v4("127.0.0.1"), port), use_tuple);
  co_return !connect_ec;
}

// One SSE client: opened (counts in stats), then reads events until the stream ends.
asio::awaitable<void> sse_client(const Options& o, Stats& stats, std::string target, int source,
                                 std::shared_ptr<int> opening) {
  tcp::socket socket(co_await asio::this_coro::executor);
  bool ok = co_await connect_from(socket, source, o.port);
  std::string head = "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n";
  if (ok) {
    auto [ec, n] = co_await asio::async_write(socket, asio::buffer(head), use_tuple);
    ok = !ec;
  }
  std::string buffer;
  std::array<char, 4096> chunk{};
  // The response head.
  while (ok && buffer.find("\r\n\r\n") == std::string::npos) {
    auto [ec, n] = co_await socket.async_read_some(asio::buffer(chunk), use_tuple);
    if (ec) ok = false;
    buffer.append(chunk.data(), n);
  }
  ok = ok && buffer.starts_with("HTTP/1.1 200");
  --*opening;
  if (!ok) {
    ++stats.failed;
    co_return;
  }
  ++stats.opened;
  buffer.erase(0, buffer.find("\r\n\r\n") + 4);
  for (;;) {
    std::size_t end;
    while ((end = buffer.find("\n\n")) != std::string::npos) {
      const std::string_view event(buffer.data(), end);
      if (event.find("data: ") != std::string_view::npos) record(stats, event);
      buffer.erase(0, end + 2);
    }
    auto [ec, n] = co_await socket.async_read_some(asio::buffer(chunk), use_tuple);
    if (ec) break;
    buffer.append(chunk.data(), n);
  }
  ++stats.closed;
}

asio::awaitable<void> ws_client(const Options& o, Stats& stats, std::string target, int source,
                                std::shared_ptr<int> opening) {
  websocket::stream<tcp::socket> ws(co_await asio::this_coro::executor);
  bool ok = co_await connect_from(ws.next_layer(), source, o.port);
  if (ok) {
    auto [ec] = co_await ws.async_handshake("127.0.0.1", target, use_tuple);
    ok = !ec;
  }
  --*opening;
  if (!ok) {
    ++stats.failed;
    co_return;
  }
  ++stats.opened;
  beast::flat_buffer buffer;
  for (;;) {
    auto [ec, n] = co_await ws.async_read(buffer, use_tuple);
    if (ec) break;
    record(stats, std::string_view(static_cast<const char*>(buffer.data().data()), buffer.size()));
    buffer.consume(buffer.size());
  }
  ++stats.closed;
}

asio::awaitable<void> open_all(const Options& o, Stats& stats, const std::vector<std::string>& channel_of) {
  auto executor = co_await asio::this_coro::executor;
  auto opening = std::make_shared<int>(0);
  asio::steady_timer pause(executor);
  const auto expires = std::chrono::system_clock::now() + std::chrono::hours(24);
  for (std::size_t i = 0; i < o.connections; ++i) {
    while (*opening >= static_cast<int>(o.concurrency)) {
      pause.expires_after(std::chrono::milliseconds(1));
      co_await pause.async_wait(use_tuple);
    }
    ++*opening;
    const std::string token = pushgw::web::mint_client_token(o.secret, {channel_of[i]}, expires);
    const bool ws = o.transport == "ws" || (o.transport == "mixed" && i % 2 == 1);
    const int source = 1 + static_cast<int>(i % static_cast<std::size_t>(o.sources));
    if (ws) {
      asio::co_spawn(executor, ws_client(o, stats, "/ws?token=" + token, source, opening), asio::detached);
    } else {
      asio::co_spawn(executor, sse_client(o, stats, "/events?token=" + token, source, opening), asio::detached);
    }
  }
  while (*opening > 0) {
    pause.expires_after(std::chrono::milliseconds(5));
    co_await pause.async_wait(use_tuple);
  }
}

// POST /push with `notifications` (a JSON array's text); the status.
asio::awaitable<int> post(const Options& o, std::string notifications) {
  tcp::socket socket(co_await asio::this_coro::executor);
  auto [ec] = co_await socket.async_connect(tcp::endpoint(asio::ip::make_address_v4("127.0.0.1"), o.port), use_tuple);
  if (ec) co_return 0;
  bhttp::request<bhttp::string_body> req{bhttp::verb::post, "/push", 11};
  req.set(bhttp::field::host, "127.0.0.1");
  req.set(bhttp::field::content_type, "application/json");
  if (!o.api_key.empty()) req.set(bhttp::field::authorization, "Bearer " + o.api_key);
  req.body() = "{\"notifications\":" + notifications + "}";
  req.prepare_payload();
  auto [wec, wn] = co_await bhttp::async_write(socket, req, use_tuple);
  if (wec) co_return 0;
  beast::flat_buffer buffer;
  bhttp::response<bhttp::string_body> res;
  auto [rec, rn] = co_await bhttp::async_read(socket, buffer, res, use_tuple);
  if (rec) co_return 0;
  co_return static_cast<int>(res.result_int());
}

std::string notification(const std::string& channel) {
  return "{\"platform\":\"web\",\"tokens\":[\"" + channel + "\"],\"title\":\"bench\",\"data\":{\"t\":" +
         std::to_string(now_us()) + "}}";
}

double percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  const auto k = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}

asio::awaitable<void> run(Options o, Stats& stats, std::size_t& expected) {
  auto executor = co_await asio::this_coro::executor;
  std::vector<std::string> channel_of(o.connections);
  for (std::size_t i = 0; i < o.connections; ++i) {
    channel_of[i] = o.mode == "fanout" ? "fan" : o.mode == "spread" ? "ch:" + std::to_string(i) : "idle:" + std::to_string(i % 1000);
  }
  const auto started = std::chrono::steady_clock::now();
  co_await open_all(o, stats, channel_of);
  std::fprintf(stderr, "webload: %zu open, %zu failed in %.1f s\n", stats.opened, stats.failed,
               std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  asio::steady_timer timer(executor);
  if (o.mode == "idle") {
    std::printf("{\"mode\":\"idle\",\"opened\":%zu,\"failed\":%zu}\n", stats.opened, stats.failed);
    std::fflush(stdout);
    // Held until stdin closes (the bench script measures the daemon meanwhile).
    asio::posix::stream_descriptor in(executor, ::dup(0));
    std::array<char, 64> sink{};
    for (;;) {
      auto [ec, n] = co_await in.async_read_some(asio::buffer(sink), use_tuple);
      if (ec) break;
    }
    co_return;
  }
  if (o.mode == "fanout") {
    for (int m = 0; m < o.messages; ++m) {
      const int status = co_await post(o, "[" + notification("fan") + "]");
      if (status == 202) expected += stats.opened;
      timer.expires_after(std::chrono::milliseconds(250));
      co_await timer.async_wait(use_tuple);
    }
  } else {
    // A batch every interval, to random channels.
    std::minstd_rand random(42);
    const int per_second = 1000 / o.interval_ms;
    const int per_batch = std::max(1, o.rate / per_second);
    auto next = std::chrono::steady_clock::now();
    for (int b = 0; b < o.seconds * per_second; ++b) {
      std::string body = "[";
      for (int k = 0; k < per_batch; ++k) {
        if (k > 0) body += ",";
        body += notification(channel_of[random() % o.connections]);
      }
      body += "]";
      if (co_await post(o, std::move(body)) == 202) expected += static_cast<std::size_t>(per_batch);
      next += std::chrono::milliseconds(o.interval_ms);
      timer.expires_at(next);
      co_await timer.async_wait(use_tuple);
    }
  }
  // Until every expected receipt came, or 10 s without progress.
  std::size_t seen = 0;
  auto progress = std::chrono::steady_clock::now();
  while (stats.latencies_ms.size() < expected && std::chrono::steady_clock::now() - progress < std::chrono::seconds(10)) {
    if (stats.latencies_ms.size() != seen) {
      seen = stats.latencies_ms.size();
      progress = std::chrono::steady_clock::now();
    }
    timer.expires_after(std::chrono::milliseconds(20));
    co_await timer.async_wait(use_tuple);
  }
  auto& l = stats.latencies_ms;
  const std::size_t received = l.size();
  std::printf(
      "{\"mode\":\"%s\",\"transport\":\"%s\",\"opened\":%zu,\"failed\":%zu,\"expected\":%zu,\"received\":%zu,"
      "\"missing\":%zu,\"p50_ms\":%.2f,\"p90_ms\":%.2f,\"p99_ms\":%.2f,\"max_ms\":%.2f,\"rate\":%d,\"interval_ms\":%d}\n",
      o.mode.c_str(), o.transport.c_str(), stats.opened, stats.failed, expected, received,
      expected > received ? expected - received : 0, percentile(l, 0.5), percentile(l, 0.9), percentile(l, 0.99),
      l.empty() ? 0.0 : *std::max_element(l.begin(), l.end()), o.mode == "spread" ? o.rate : 0,
      o.mode == "spread" ? o.interval_ms : 0);
  std::fflush(stdout);
  std::exit(0);  // the connections go with the process
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string key = argv[i], value = argv[i + 1];
    if (key == "--port") o.port = static_cast<std::uint16_t>(std::stoi(value));
    else if (key == "--mode") o.mode = value;
    else if (key == "--transport") o.transport = value;
    else if (key == "--connections") o.connections = std::stoul(value);
    else if (key == "--sources") o.sources = std::stoi(value);
    else if (key == "--concurrency") o.concurrency = std::stoul(value);
    else if (key == "--secret") o.secret = value;
    else if (key == "--api-key") o.api_key = value;
    else if (key == "--messages") o.messages = std::stoi(value);
    else if (key == "--rate") o.rate = std::stoi(value);
    else if (key == "--seconds") o.seconds = std::stoi(value);
    else if (key == "--interval-ms") o.interval_ms = std::clamp(std::stoi(value), 1, 1000);
    else {
      std::cerr << "pushgw-webload: unknown option " << key << "\n";
      return 2;
    }
  }
  if (o.secret.empty() || (o.mode != "idle" && o.mode != "fanout" && o.mode != "spread")) {
    std::cerr << "usage: pushgw-webload --port P --secret S [--mode idle|fanout|spread] [--transport sse|ws|mixed]\n"
                 "  [--connections N] [--sources 8] [--concurrency 512] [--api-key K] [--messages 20]\n"
                 "  [--rate 10000] [--seconds 10] [--interval-ms 10]\n";
    return 2;
  }
  asio::io_context io(1);
  Stats stats;
  std::size_t expected = 0;
  asio::co_spawn(io, run(o, stats, expected), [](std::exception_ptr e) {
    if (e) std::rethrow_exception(e);
  });
  io.run();
  return 0;
}
