// Fuzzes RESP reply parsing (redis::ReplyParser, hiredis's reader under it): the bytes a Redis
// server, or anything that answers on its port, sends back. Traps when
//   - the bytes fed at once and fed one at a time give different replies or a different verdict;
//   - a reply written back as RESP does not parse to the same reply;
//   - Redis Cluster's readers of a reply (a redirect error, a CLUSTER SLOTS map) accept one
//     that breaks their promises (a slot out of range, a range that ends before it starts).

#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "pushgw/redis/cluster_slots.hpp"
#include "pushgw/redis/reply.hpp"

namespace {

using pushgw::redis::Reply;
using pushgw::redis::ReplyParser;

struct Parsed {
  std::vector<Reply> replies;
  bool failed = false;
};

// Feeds `bytes` in pieces of `piece` bytes, taking out every reply as soon as it is complete.
Parsed parse(std::string_view bytes, std::size_t piece) {
  ReplyParser parser;
  Parsed out;
  for (std::size_t at = 0; at < bytes.size() && !parser.failed(); at += piece) {
    parser.feed(bytes.substr(at, piece));
    while (auto reply = parser.next()) out.replies.push_back(std::move(*reply));
  }
  out.failed = parser.failed();
  return out;
}

void write_resp(const Reply& reply, std::string& out) {
  switch (reply.type) {
    case Reply::Type::status: out += "+" + reply.str + "\r\n"; break;
    case Reply::Type::error: out += "-" + reply.str + "\r\n"; break;
    case Reply::Type::integer: out += ":" + std::to_string(reply.integer) + "\r\n"; break;
    case Reply::Type::nil: out += "$-1\r\n"; break;
    case Reply::Type::string: out += "$" + std::to_string(reply.str.size()) + "\r\n" + reply.str + "\r\n"; break;
    case Reply::Type::array:
      out += "*" + std::to_string(reply.elements.size()) + "\r\n";
      for (const auto& element : reply.elements) write_resp(element, out);
      break;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const Parsed whole = parse(bytes, bytes.size() + 1);
  const Parsed bytewise = parse(bytes, 1);
  if (whole.replies != bytewise.replies || whole.failed != bytewise.failed) __builtin_trap();

  for (const auto& reply : whole.replies) {
    std::string written;
    write_resp(reply, written);
    const Parsed again = parse(written, written.size());
    if (again.failed || again.replies.size() != 1 || again.replies.front() != reply) __builtin_trap();
    std::ostringstream shown;  // the redis-cli style text of logs and test failures
    shown << reply;

    if (auto redirect = pushgw::redis::parse_redirect(reply); redirect && redirect->slot >= pushgw::redis::kClusterSlots) {
      __builtin_trap();
    }
    const auto map = pushgw::redis::parse_cluster_slots(reply, {"seed", 6379});
    if (map.error.empty() == map.ranges.empty()) __builtin_trap();  // one or the other
    pushgw::redis::SlotMap slots;
    slots.assign(map.ranges);
    for (const auto& range : map.ranges) {
      if (range.first > range.last || range.last >= pushgw::redis::kClusterSlots || range.master.port == 0) __builtin_trap();
      if (slots.master_of(range.first) == nullptr) __builtin_trap();
    }
  }
  return 0;
}
