#pragma once
// The streams of one HTTP/2 connection and their deadlines, without sockets or nghttp2: the
// part of a connection that decides which slot a request uses and when it times out, kept
// apart so it can be tested on its own (tests/h2/stream_table_test.cpp).
//
// Slots are reused: a busy connection starts a stream per request, and an allocation each time
// showed in profiles. A Stream stays where it is until the table goes (nghttp2 may read a body
// from it until its session is deleted), so pointers to it stay valid. Each release bumps the
// slot's `serial`, which tells a deadline whether its slot still holds the same request.
// Not thread-safe: one connection's executor.

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "pushgw/h2/connection.hpp"

namespace pushgw::h2 {

struct Stream {
  std::int32_t id = 0;             // nghttp2's stream id; 0 until submitted
  std::uint64_t serial = 0;        // +1 each time the slot is given back
  std::size_t open_index = 0;      // where in StreamTable::open_streams()
  std::string body;
  std::shared_ptr<const std::string> shared_body;  // sent instead of `body` when set
  std::size_t body_offset = 0;
  std::string_view body_text() const { return shared_body ? std::string_view(*shared_body) : std::string_view(body); }
  ResultHandler done;              // empty once the caller has its result
  Response response;
  bool headers_sent = false;       // HEADERS reached the socket buffer: the server may act on it
};

class StreamTable {
 public:
  using Clock = std::chrono::steady_clock;

  // A slot for a new request: a free one if there is one, else a new one.
  Stream& open();
  // Gives `stream` back (cleared, serial bumped) and drops the deadlines at the front that
  // belong to slots given back since.
  void release(Stream& stream);

  const std::vector<Stream*>& open_streams() const { return open_; }
  std::size_t open_count() const { return open_.size(); }
  std::size_t slot_count() const { return all_.size(); }
  // An open stream with nghttp2 id `id`, or nullptr (a scan: for rare paths only).
  Stream* find_open(std::int32_t id) const;

  // `stream` times out at `at`. Requests with the default timeout only append; a shorter one
  // is put in order. True when it is now the earliest deadline (re-arm the timer).
  bool add_deadline(Clock::time_point at, Stream& stream);
  // The earliest deadline, or time_point::max() when there is none.
  Clock::time_point next_deadline() const;
  // Removes the deadlines due at `now` and calls `on_expired(Stream&)` for each whose slot still
  // holds its request and whose caller still waits for it.
  template <class OnExpired>
  void expire(Clock::time_point now, OnExpired&& on_expired) {
    while (!deadlines_.empty() && deadlines_.front().at <= now) {
      const Deadline due = deadlines_.front();
      deadlines_.pop_front();
      if (due.stream->serial == due.serial && due.stream->done) on_expired(*due.stream);
    }
  }
  std::size_t deadline_count() const { return deadlines_.size(); }

 private:
  struct Deadline {
    Clock::time_point at;
    Stream* stream;
    std::uint64_t serial;
  };
  std::vector<std::unique_ptr<Stream>> all_;
  std::vector<Stream*> open_;
  std::vector<Stream*> free_;
  std::deque<Deadline> deadlines_;  // in time order
};

}  // namespace pushgw::h2
