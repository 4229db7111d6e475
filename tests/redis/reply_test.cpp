#include "pushgw/redis/reply.hpp"

#include <gtest/gtest.h>

#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace pushgw::redis {
namespace {

using namespace std::string_literals;

// Parses `bytes` as exactly one reply.
Reply parse_one(const std::string& bytes) {
  ReplyParser parser;
  parser.feed(bytes);
  std::optional<Reply> reply = parser.next();
  EXPECT_FALSE(parser.failed()) << parser.error();
  EXPECT_TRUE(reply.has_value()) << "incomplete reply: " << bytes;
  EXPECT_FALSE(parser.next().has_value()) << "more than one reply in: " << bytes;
  return reply.value_or(Reply{});
}

Reply bulk(std::string s) {
  Reply r;
  r.type = Reply::Type::string;
  r.str = std::move(s);
  return r;
}

TEST(Request, FormatsOneCommandAsRespArrayOfBulkStrings) {
  Request request;
  request.push("SET", "key", "value");
  EXPECT_EQ(request.size(), 1U);
  EXPECT_EQ(request.payload(), "*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n");
}

TEST(Request, ArgumentsAreBinarySafe) {
  Request request;
  const std::string value = "a\0b\r\n\xff"s;
  request.push("SET", "k", value);
  EXPECT_EQ(request.payload(), "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$6\r\na\0b\r\n\xff\r\n"s);
}

TEST(Request, EmptyArgumentIsAnEmptyBulkString) {
  Request request;
  request.push("SET", "k", std::string_view());
  EXPECT_EQ(request.payload(), "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n");
}

TEST(Request, SeveralCommandsAreAppendedInOrder) {
  Request request;
  request.push("PING");
  request.push("INCR", std::string("counter"));
  request.push_argv({"LPUSH", "list", "a", "b"});
  EXPECT_EQ(request.size(), 3U);
  EXPECT_EQ(request.payload(),
            "*1\r\n$4\r\nPING\r\n"
            "*2\r\n$4\r\nINCR\r\n$7\r\ncounter\r\n"
            "*4\r\n$5\r\nLPUSH\r\n$4\r\nlist\r\n$1\r\na\r\n$1\r\nb\r\n");
}

TEST(Request, LargeBinaryValueSurvivesARoundTripThroughTheParser) {
  std::string value(100000, '\0');
  for (std::size_t i = 0; i < value.size(); ++i) {
    value[i] = static_cast<char>(i % 256);
  }
  Request request;
  request.push("SET", "big", value);
  // A request is itself RESP (an array of bulk strings), so the parser can read it back.
  Reply parsed = parse_one(request.payload());
  ASSERT_EQ(parsed.type, Reply::Type::array);
  ASSERT_EQ(parsed.elements.size(), 3U);
  EXPECT_EQ(parsed.elements[0], bulk("SET"));
  EXPECT_EQ(parsed.elements[1], bulk("big"));
  EXPECT_EQ(parsed.elements[2], bulk(value));
}

TEST(Request, KnowsEachCommandsNameKeyAndBytesAndCopiesOneIntoAnother) {
  Request request;
  request.push("PING");
  request.push("EVALSHA", "abc", "2", "pushgw:{high}:queue", "pushgw:{high}:retry", "5");
  request.push("SET", "k", "");
  EXPECT_EQ(request.name(1), "EVALSHA");
  EXPECT_EQ(request.key(0), std::nullopt);
  EXPECT_EQ(request.key(1), "pushgw:{high}:queue");
  EXPECT_EQ(request.key(2), "k");
  EXPECT_EQ(request.command_bytes(0), "*1\r\n$4\r\nPING\r\n");
  EXPECT_EQ(request.command_bytes(2), "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n");

  Request copy;
  copy.push("ASKING");
  copy.push_command_of(request, 2);
  copy.push_command_of(request, 1);
  EXPECT_EQ(copy.size(), 3u);
  EXPECT_EQ(copy.payload(), "*1\r\n$6\r\nASKING\r\n" + std::string(request.command_bytes(2)) +
                                std::string(request.command_bytes(1)));
  EXPECT_EQ(copy.key(1), "k");
  EXPECT_EQ(copy.name(2), "EVALSHA");
  EXPECT_EQ(copy.key(2), "pushgw:{high}:queue");
}

TEST(Request, EmptyCommandIsRejected) {
  Request request;
  EXPECT_THROW(request.push_argv({}), std::invalid_argument);
  EXPECT_EQ(request.size(), 0U);
  EXPECT_TRUE(request.payload().empty());
}

TEST(ReplyParser, ConvertsEachReplyType) {
  Reply status = parse_one("+OK\r\n");
  EXPECT_EQ(status.type, Reply::Type::status);
  EXPECT_EQ(status.str, "OK");

  Reply error = parse_one("-ERR unknown command 'FOO'\r\n");
  EXPECT_TRUE(error.is_error());
  EXPECT_EQ(error.str, "ERR unknown command 'FOO'");

  Reply integer = parse_one(":-42\r\n");
  EXPECT_EQ(integer.type, Reply::Type::integer);
  EXPECT_EQ(integer.integer, -42);

  Reply big = parse_one(":9223372036854775807\r\n");
  EXPECT_EQ(big.integer, INT64_MAX);

  EXPECT_EQ(parse_one("$5\r\nhello\r\n"), bulk("hello"));
  EXPECT_EQ(parse_one("$0\r\n\r\n"), bulk(""));
  EXPECT_EQ(parse_one("$4\r\n\r\n\0x\r\n"s), bulk("\r\n\0x"s));

  EXPECT_TRUE(parse_one("$-1\r\n").is_nil());
  EXPECT_TRUE(parse_one("*-1\r\n").is_nil());

  Reply empty = parse_one("*0\r\n");
  EXPECT_EQ(empty.type, Reply::Type::array);
  EXPECT_TRUE(empty.elements.empty());
}

TEST(ReplyParser, ConvertsNestedArrays) {
  // What EXEC or XRANGE answer: arrays holding every kind of value, and arrays.
  Reply reply = parse_one("*4\r\n:1\r\n*2\r\n$1\r\na\r\n$-1\r\n+QUEUED\r\n-WRONGTYPE bad\r\n");
  ASSERT_EQ(reply.type, Reply::Type::array);
  ASSERT_EQ(reply.elements.size(), 4U);
  EXPECT_EQ(reply.elements[0].integer, 1);
  ASSERT_EQ(reply.elements[1].type, Reply::Type::array);
  ASSERT_EQ(reply.elements[1].elements.size(), 2U);
  EXPECT_EQ(reply.elements[1].elements[0], bulk("a"));
  EXPECT_TRUE(reply.elements[1].elements[1].is_nil());
  EXPECT_EQ(reply.elements[2].type, Reply::Type::status);
  EXPECT_EQ(reply.elements[2].str, "QUEUED");
  EXPECT_TRUE(reply.elements[3].is_error());
  EXPECT_EQ(reply.elements[3].str, "WRONGTYPE bad");
}

TEST(ReplyParser, ReassemblesRepliesFedOneByteAtATime) {
  const std::string stream = "+OK\r\n$3\r\nfoo\r\n*2\r\n:7\r\n$2\r\nhi\r\n";
  ReplyParser parser;
  std::vector<Reply> replies;
  for (char c : stream) {
    parser.feed(std::string_view(&c, 1));
    while (std::optional<Reply> reply = parser.next()) {
      replies.push_back(std::move(*reply));
    }
  }
  EXPECT_FALSE(parser.failed());
  ASSERT_EQ(replies.size(), 3U);
  EXPECT_EQ(replies[0].str, "OK");
  EXPECT_EQ(replies[1], bulk("foo"));
  ASSERT_EQ(replies[2].elements.size(), 2U);
  EXPECT_EQ(replies[2].elements[0].integer, 7);
  EXPECT_EQ(replies[2].elements[1], bulk("hi"));
}

// Found by fuzz/resp_reply: hiredis allocated the element pointers of "*1233233455" (9.8 GB)
// as soon as the line arrived. An array over the bound fails the parser instead.
TEST(ReplyParser, RefusesAnArrayTooLongToAllocateBeforeItsElementsArrive) {
  ReplyParser parser;
  parser.feed("*1\r\n*1233233455\r\n:1\r\n");
  EXPECT_FALSE(parser.next().has_value());
  EXPECT_TRUE(parser.failed());
  EXPECT_EQ(parser.error(), "a reply array of more than 16777216 elements");

  ReplyParser at_the_bound;
  at_the_bound.feed("*16777216\r\n");
  EXPECT_FALSE(at_the_bound.next().has_value());
  EXPECT_FALSE(at_the_bound.failed());  // waits for its elements
}

TEST(ReplyParser, IncompleteInputIsNotAnError) {
  ReplyParser parser;
  parser.feed("$10\r\nhalf");
  EXPECT_FALSE(parser.next().has_value());
  EXPECT_FALSE(parser.failed());
  parser.feed(" done!\r\n");
  std::optional<Reply> reply = parser.next();
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(*reply, bulk("half done!"));
}

TEST(ReplyParser, BytesThatAreNotRespFailTheParser) {
  ReplyParser parser;
  parser.feed("HTTP/1.1 400 Bad Request\r\n");
  EXPECT_FALSE(parser.next().has_value());
  EXPECT_TRUE(parser.failed());
  EXPECT_FALSE(parser.error().empty());
  // It stays failed: bytes after garbage cannot be trusted.
  parser.feed("+OK\r\n");
  EXPECT_FALSE(parser.next().has_value());
  EXPECT_TRUE(parser.failed());
}

TEST(Reply, PrintsLikeRedisCli) {
  Reply array = parse_one("*5\r\n+OK\r\n-ERR no\r\n:3\r\n$-1\r\n$4\r\na\"\0\n\r\n"s);
  std::ostringstream out;
  out << array;
  EXPECT_EQ(out.str(), R"([OK, (error) ERR no, (integer) 3, (nil), "a\"\x00\x0a"])");
}

}  // namespace
}  // namespace pushgw::redis
