// pushgw-webfloor: what the kernel alone charges for a fan-out on this host, so that the
// daemon's numbers in bench/web can be read against it. No pushgw, no Asio: N loopback TCP
// connections from 127.0.0.1..8; a message of --bytes is send()'t to each of them by
// --threads plain threads (each its share), while one reader thread drains the client ends
// through epoll, as pushgw-webload does. Per round it measures the time until the last
// sender is done and until the reader has read all N; prints one JSON line with the medians
// and maxima over --rounds (a pause of 100 ms between rounds, as the fan-out bench posts every
// 250 ms).
//   pushgw-webfloor [--connections 9000] [--threads 1] [--rounds 20] [--bytes 150] [--no-reader]
// Needs 2N+ descriptors (bench/web/run floor raises the limit as far as it may).

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

struct Options {
  int connections = 9000;
  int threads = 1;
  int rounds = 20;
  int bytes = 150;
  bool reader = true;
};

using Clock = std::chrono::steady_clock;

double ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "pushgw-webfloor: %s: %s\n", what, std::strerror(errno));
  std::exit(1);
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string key = argv[i];
    auto value = [&] { return i + 1 < argc ? std::atoi(argv[++i]) : 0; };
    if (key == "--connections") o.connections = value();
    else if (key == "--threads") o.threads = std::max(1, value());
    else if (key == "--rounds") o.rounds = std::max(1, value());
    else if (key == "--bytes") o.bytes = std::max(1, value());
    else if (key == "--no-reader") o.reader = false;
    else {
      std::fprintf(stderr, "usage: pushgw-webfloor [--connections N] [--threads T] [--rounds R] [--bytes B] [--no-reader]\n");
      return 2;
    }
  }

  const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) fail("bind");
  if (::listen(listener, 4096) != 0) fail("listen");
  socklen_t length = sizeof address;
  ::getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length);

  std::vector<int> clients(o.connections), servers(o.connections);
  for (int i = 0; i < o.connections; ++i) {
    clients[i] = ::socket(AF_INET, SOCK_STREAM, 0);
    if (clients[i] < 0) fail("socket (raise the open-files limit)");
    sockaddr_in source{};
    source.sin_family = AF_INET;
    source.sin_addr.s_addr = htonl(INADDR_LOOPBACK + static_cast<unsigned>(i % 8));
    if (::bind(clients[i], reinterpret_cast<sockaddr*>(&source), sizeof source) != 0) fail("bind source");
    if (::connect(clients[i], reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) fail("connect");
    servers[i] = ::accept(listener, nullptr, nullptr);
    if (servers[i] < 0) fail("accept (raise the open-files limit)");
    ::fcntl(clients[i], F_SETFL, O_NONBLOCK);
  }

  const int epoll = ::epoll_create1(0);
  for (int fd : clients) {
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.fd = fd;
    ::epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &event);
  }
  std::atomic<long> received{0};
  std::atomic<bool> done{false};
  std::thread reader([&] {
    std::vector<epoll_event> events(256);
    std::vector<char> sink(4096);
    while (!done) {
      if (!o.reader) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
        continue;
      }
      const int n = ::epoll_wait(epoll, events.data(), static_cast<int>(events.size()), 50);
      for (int k = 0; k < n; ++k) {
        while (::read(events[k].data.fd, sink.data(), sink.size()) > 0) {
        }
        ++received;
      }
    }
  });

  const std::string message(static_cast<std::size_t>(o.bytes), 'x');
  std::vector<double> sent_ms, read_ms;
  for (int round = 0; round < o.rounds; ++round) {
    const long before = received.load();
    const auto start = Clock::now();
    std::vector<std::thread> senders;
    for (int t = 0; t < o.threads; ++t) {
      senders.emplace_back([&, t] {
        for (int i = t; i < o.connections; i += o.threads) ::send(servers[i], message.data(), message.size(), MSG_DONTWAIT);
      });
    }
    for (auto& sender : senders) sender.join();
    sent_ms.push_back(ms(Clock::now() - start));
    if (o.reader) {
      while (received.load() - before < o.connections) std::this_thread::yield();
      read_ms.push_back(ms(Clock::now() - start));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  done = true;
  reader.join();
  std::printf(
      "{\"mode\":\"floor\",\"connections\":%d,\"threads\":%d,\"bytes\":%d,\"rounds\":%d,\"reader\":%s,"
      "\"sent_median_ms\":%.2f,\"sent_max_ms\":%.2f,\"read_median_ms\":%.2f,\"read_max_ms\":%.2f}\n",
      o.connections, o.threads, o.bytes, o.rounds, o.reader ? "true" : "false", median(sent_ms),
      *std::max_element(sent_ms.begin(), sent_ms.end()), median(read_ms),
      read_ms.empty() ? 0.0 : *std::max_element(read_ms.begin(), read_ms.end()));
  return 0;
}
