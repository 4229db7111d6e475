#include "pushgw/h2/stream_table.hpp"

#include <algorithm>
#include <utility>

namespace pushgw::h2 {

Stream& StreamTable::open() {
  Stream* stream = nullptr;
  if (free_.empty()) {
    stream = all_.emplace_back(std::make_unique<Stream>()).get();
  } else {
    stream = free_.back();
    free_.pop_back();
  }
  stream->open_index = open_.size();
  open_.push_back(stream);
  return *stream;
}

void StreamTable::release(Stream& stream) {
  ++stream.serial;
  stream.id = 0;
  stream.done = nullptr;
  stream.shared_body.reset();
  stream.body.clear();
  if (stream.body.capacity() > 64 * 1024) std::string().swap(stream.body);  // a rare big body
  stream.body_offset = 0;
  stream.response = Response{};
  stream.headers_sent = false;
  Stream* moved = open_.back();  // swap-remove
  moved->open_index = stream.open_index;
  open_[stream.open_index] = moved;
  open_.pop_back();
  free_.push_back(&stream);
  while (!deadlines_.empty() && deadlines_.front().serial != deadlines_.front().stream->serial) {
    deadlines_.pop_front();
  }
}

Stream* StreamTable::find_open(std::int32_t id) const {
  const auto it = std::find_if(open_.begin(), open_.end(), [id](const Stream* s) { return s->id == id; });
  return it == open_.end() ? nullptr : *it;
}

bool StreamTable::add_deadline(Clock::time_point at, Stream& stream) {
  const Deadline deadline{at, &stream, stream.serial};
  if (deadlines_.empty() || at >= deadlines_.back().at) {
    deadlines_.push_back(deadline);
  } else {  // a shorter timeout than earlier requests: keep the order
    const auto later = std::upper_bound(deadlines_.begin(), deadlines_.end(), at,
                                        [](Clock::time_point t, const Deadline& d) { return t < d.at; });
    deadlines_.insert(later, deadline);
  }
  return deadlines_.front().stream == &stream && deadlines_.front().serial == stream.serial;
}

StreamTable::Clock::time_point StreamTable::next_deadline() const {
  return deadlines_.empty() ? Clock::time_point::max() : deadlines_.front().at;
}

}  // namespace pushgw::h2
