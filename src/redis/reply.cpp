// Request formatting (RESP written here) and reply parsing (hiredis's reader: the client does
// its own I/O).

#include "pushgw/redis/reply.hpp"

#include "pushgw/redis/cluster_slots.hpp"

#include <hiredis/hiredis.h>

#include <charconv>
#include <cstdio>
#include <iterator>
#include <new>
#include <ostream>
#include <stdexcept>
#include <utility>

namespace pushgw::redis {

void Request::push_argv(const std::vector<std::string_view>& argv) {
  if (argv.empty()) {
    throw std::invalid_argument("redis::Request::push_argv: empty command");
  }
  // RESP: *<count>, then $<length> and the bytes of each argument, each line ending in CRLF.
  // Written here rather than by redisFormatCommandArgv, which sprintf()s every length into a
  // buffer of its own that is then copied: on single-token jobs that was 6% of the thread
  // that takes and acks them.
  std::size_t size = 16;
  for (std::string_view arg : argv) size += arg.size() + 24;
  payload_.reserve(payload_.size() + size);
  const auto line = [this](char kind, std::size_t n) {
    char digits[24];
    const auto end = std::to_chars(std::begin(digits), std::end(digits), n).ptr;
    payload_ += kind;
    payload_.append(digits, end);
    payload_ += "\r\n";
  };
  starts_.push_back(payload_.size());
  line('*', argv.size());
  for (std::string_view arg : argv) {
    line('$', arg.size());
    if (!arg.empty()) payload_.append(arg);  // an empty view may carry a null pointer
    payload_ += "\r\n";
  }
}

std::string_view Request::command_bytes(std::size_t i) const {
  const std::size_t begin = starts_.at(i);
  const std::size_t end = i + 1 < starts_.size() ? starts_[i + 1] : payload_.size();
  return std::string_view(payload_).substr(begin, end - begin);
}

// The arguments of command `i`, read back from the RESP that push_argv wrote.
std::vector<std::string_view> Request::arguments(std::size_t i) const {
  const std::string_view bytes = command_bytes(i);
  const auto number_at = [&](std::size_t& at) {  // the digits after a '*' or '$', up to CRLF
    std::size_t n = 0;
    const auto [end, ec] = std::from_chars(bytes.data() + at + 1, bytes.data() + bytes.size(), n);
    at = static_cast<std::size_t>(end - bytes.data()) + 2;
    return n;
  };
  std::size_t at = 0;
  std::vector<std::string_view> argv(number_at(at));
  for (auto& arg : argv) {
    const std::size_t length = number_at(at);
    arg = bytes.substr(at, length);
    at += length + 2;
  }
  return argv;
}

std::string_view Request::name(std::size_t i) const { return arguments(i).at(0); }

std::optional<std::string_view> Request::key(std::size_t i) const {
  const auto argv = arguments(i);
  const auto index = routing_argument(argv);
  if (!index) return std::nullopt;
  return argv[*index];
}

void Request::push_command_of(const Request& other, std::size_t i) {
  starts_.push_back(payload_.size());
  payload_.append(other.command_bytes(i));
}

std::ostream& operator<<(std::ostream& out, const Reply& reply) {
  switch (reply.type) {
    case Reply::Type::status:
      return out << reply.str;
    case Reply::Type::error:
      return out << "(error) " << reply.str;
    case Reply::Type::integer:
      return out << "(integer) " << reply.integer;
    case Reply::Type::nil:
      return out << "(nil)";
    case Reply::Type::string:
      out << '"';
      for (unsigned char c : reply.str) {
        if (c == '"' || c == '\\') {
          out << '\\' << c;
        } else if (c >= 0x20 && c < 0x7f) {
          out << c;
        } else {
          char escaped[5];
          std::snprintf(escaped, sizeof escaped, "\\x%02x", c);
          out << escaped;
        }
      }
      return out << '"';
    case Reply::Type::array:
      out << '[';
      for (std::size_t i = 0; i < reply.elements.size(); ++i) {
        out << (i == 0 ? "" : ", ") << reply.elements[i];
      }
      return out << ']';
  }
  return out;
}

namespace {

Reply to_reply(const redisReply& in) {
  Reply out;
  switch (in.type) {
    case REDIS_REPLY_STRING:
      out.type = Reply::Type::string;
      out.str.assign(in.str, in.len);
      break;
    case REDIS_REPLY_STATUS:
      out.type = Reply::Type::status;
      out.str.assign(in.str, in.len);
      break;
    case REDIS_REPLY_ERROR:
      out.type = Reply::Type::error;
      out.str.assign(in.str, in.len);
      break;
    case REDIS_REPLY_INTEGER:
      out.type = Reply::Type::integer;
      out.integer = in.integer;
      break;
    case REDIS_REPLY_ARRAY:
      out.type = Reply::Type::array;
      out.elements.reserve(in.elements);
      for (std::size_t i = 0; i < in.elements; ++i) {
        out.elements.push_back(to_reply(*in.element[i]));
      }
      break;
    case REDIS_REPLY_NIL:
    default:  // hiredis 0.14 produces no other type
      out.type = Reply::Type::nil;
      break;
  }
  return out;
}

redisReader* as_reader(void* reader) { return static_cast<redisReader*>(reader); }

// hiredis allocates an array's element pointers as soon as its "*<count>" line arrives, so a
// 15-byte line could ask for 16 GB (found by fuzz/resp_reply). pushgw's largest replies (a
// batched HMGET of tokens, a processing list) are far below this bound.
constexpr int kMaxArrayElements = 1 << 24;
constexpr std::string_view kArrayTooLong = "a reply array of more than 16777216 elements";
// hiredis reports a refused array only as "Out of memory". The reader's privdata, which each
// task carries, is the reader itself, so that the callback can mark it with this instead.
constexpr char kArrayRefused = 0;

redisReplyObjectFunctions bounded_functions(const redisReplyObjectFunctions& hiredis_defaults) {
  static void* (*const create_array)(const redisReadTask*, int) = hiredis_defaults.createArray;
  redisReplyObjectFunctions functions = hiredis_defaults;
  functions.createArray = [](const redisReadTask* task, int elements) -> void* {
    if (elements <= kMaxArrayElements) return create_array(task, elements);
    static_cast<redisReader*>(task->privdata)->privdata = const_cast<char*>(&kArrayRefused);
    return nullptr;
  };
  return functions;
}

}  // namespace

void ReplyParser::ReaderDeleter::operator()(void* reader) const {
  redisReaderFree(as_reader(reader));
}

ReplyParser::ReplyParser() : reader_(redisReaderCreate()) {
  if (!reader_) {
    throw std::bad_alloc();
  }
  redisReader* reader = as_reader(reader_.get());
  static redisReplyObjectFunctions bounded = bounded_functions(*reader->fn);
  reader->fn = &bounded;
  reader->privdata = reader;
}

ReplyParser::~ReplyParser() = default;
ReplyParser::ReplyParser(ReplyParser&&) noexcept = default;
ReplyParser& ReplyParser::operator=(ReplyParser&&) noexcept = default;

void ReplyParser::feed(std::string_view bytes) {
  if (failed() || bytes.empty()) {
    return;
  }
  if (redisReaderFeed(as_reader(reader_.get()), bytes.data(), bytes.size()) != REDIS_OK) {
    error_ = "cannot buffer reply bytes: out of memory";
  }
}

std::optional<Reply> ReplyParser::next() {
  if (failed()) {
    return std::nullopt;
  }
  redisReader* reader = as_reader(reader_.get());
  void* object = nullptr;
  if (redisReaderGetReply(reader, &object) != REDIS_OK) {
    error_ = reader->privdata == &kArrayRefused ? std::string(kArrayTooLong)
                           : reader->errstr[0] != '\0' ? reader->errstr : "invalid RESP";
    return std::nullopt;
  }
  if (object == nullptr) {
    return std::nullopt;  // incomplete: wait for more bytes
  }
  std::unique_ptr<redisReply, void (*)(void*)> owned(static_cast<redisReply*>(object),
                                                     &freeReplyObject);
  return to_reply(*owned);
}

}  // namespace pushgw::redis
