#pragma once
// redis::Reply values for expectations and for feeding the pure parts of the client.

#include <cstdint>
#include <string>
#include <vector>

#include "pushgw/redis/reply.hpp"

namespace pushgw::test {

inline redis::Reply reply_of(redis::Reply::Type type, std::string text = {}, std::int64_t integer = 0) {
  redis::Reply r;
  r.type = type;
  r.str = std::move(text);
  r.integer = integer;
  return r;
}
inline redis::Reply status(std::string s) { return reply_of(redis::Reply::Type::status, std::move(s)); }
inline redis::Reply bulk(std::string s) { return reply_of(redis::Reply::Type::string, std::move(s)); }
inline redis::Reply error_reply(std::string s) { return reply_of(redis::Reply::Type::error, std::move(s)); }
inline redis::Reply integer(std::int64_t value) { return reply_of(redis::Reply::Type::integer, {}, value); }
inline redis::Reply array(std::vector<redis::Reply> elements) {
  redis::Reply r = reply_of(redis::Reply::Type::array);
  r.elements = std::move(elements);
  return r;
}

}  // namespace pushgw::test
