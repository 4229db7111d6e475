// The stream slots and deadline queue of a connection, without sockets.

#include "pushgw/h2/stream_table.hpp"

#include <gtest/gtest.h>

#include <utility>
#include <vector>

namespace pushgw::h2 {
namespace {

using namespace std::chrono_literals;
using Clock = StreamTable::Clock;

// A stream whose caller still waits (as after a submission).
Stream& open_waiting(StreamTable& table, std::int32_t id) {
  Stream& stream = table.open();
  stream.id = id;
  stream.done = [](Result) {};
  return stream;
}

std::vector<std::int32_t> expired_ids(StreamTable& table, Clock::time_point now) {
  std::vector<std::int32_t> ids;
  table.expire(now, [&](Stream& s) { ids.push_back(s.id); });
  return ids;
}

TEST(StreamTable, ReleasedSlotsAreReusedClearedAndTheirSerialBumped) {
  StreamTable table;
  Stream& a = open_waiting(table, 1);
  a.body = "payload";
  a.response.status = 200;
  a.headers_sent = true;
  Stream& b = open_waiting(table, 3);
  EXPECT_EQ(table.open_count(), 2u);
  const auto serial = a.serial;

  table.release(a);
  EXPECT_EQ(table.open_count(), 1u);
  EXPECT_EQ(table.open_streams().front(), &b);
  EXPECT_EQ(b.open_index, 0u);  // moved into the released place
  EXPECT_EQ(a.serial, serial + 1);

  Stream& c = table.open();  // the released slot, not a new one
  EXPECT_EQ(&c, &a);
  EXPECT_EQ(table.slot_count(), 2u);
  EXPECT_EQ(c.id, 0);
  EXPECT_TRUE(c.body.empty());
  EXPECT_EQ(c.response.status, 0);
  EXPECT_FALSE(c.headers_sent);
  EXPECT_FALSE(c.done);
}

TEST(StreamTable, FindsOpenStreamsById) {
  StreamTable table;
  open_waiting(table, 1);
  Stream& b = open_waiting(table, 5);
  EXPECT_EQ(table.find_open(5), &b);
  EXPECT_EQ(table.find_open(7), nullptr);
  table.release(b);
  EXPECT_EQ(table.find_open(5), nullptr);
}

TEST(StreamTable, DeadlinesExpireInTimeOrderAShorterOneFirst) {
  StreamTable table;
  const auto t0 = Clock::now();
  EXPECT_EQ(table.next_deadline(), Clock::time_point::max());
  EXPECT_TRUE(table.add_deadline(t0 + 10s, open_waiting(table, 1)));
  EXPECT_FALSE(table.add_deadline(t0 + 20s, open_waiting(table, 3)));
  // Submitted later with a shorter timeout: it becomes the earliest.
  EXPECT_TRUE(table.add_deadline(t0 + 5s, open_waiting(table, 5)));
  EXPECT_EQ(table.next_deadline(), t0 + 5s);

  EXPECT_TRUE(expired_ids(table, t0 + 1s).empty());
  EXPECT_EQ(expired_ids(table, t0 + 10s), (std::vector<std::int32_t>{5, 1}));
  EXPECT_EQ(table.next_deadline(), t0 + 20s);
  EXPECT_EQ(expired_ids(table, t0 + 1h), (std::vector<std::int32_t>{3}));
  EXPECT_EQ(table.deadline_count(), 0u);
}

// Streams 1 and 3 with deadlines at t0 + 1 s and t0 + 2 s.
std::pair<Stream*, Stream*> two_with_deadlines(StreamTable& table, Clock::time_point t0) {
  Stream& a = open_waiting(table, 1);
  table.add_deadline(t0 + 1s, a);
  Stream& b = open_waiting(table, 3);
  table.add_deadline(t0 + 2s, b);
  return {&a, &b};
}

TEST(StreamTable, ADeadlineOfAReleasedOrAnsweredStreamDoesNotExpireItsSuccessor) {
  StreamTable table;
  const auto t0 = Clock::now();
  auto [first, second] = two_with_deadlines(table, t0);
  Stream& a = *first;
  Stream& b = *second;

  table.release(a);  // answered and closed: its deadline at the front is dropped
  EXPECT_EQ(table.deadline_count(), 1u);
  Stream& reused = open_waiting(table, 7);  // the same slot, a new request
  ASSERT_EQ(&reused, &a);
  table.add_deadline(t0 + 30s, reused);

  b.done = nullptr;  // the caller has its answer; the stream is still open
  EXPECT_TRUE(expired_ids(table, t0 + 10s).empty());
  EXPECT_EQ(expired_ids(table, t0 + 30s), (std::vector<std::int32_t>{7}));
}

TEST(StreamTable, ADeadlineBehindTheFrontStaysUntilItIsDue) {
  StreamTable table;
  const auto t0 = Clock::now();
  Stream& b = *two_with_deadlines(table, t0).second;
  table.release(b);  // not at the front: stays queued, skipped when due
  EXPECT_EQ(table.deadline_count(), 2u);
  EXPECT_EQ(expired_ids(table, t0 + 5s), (std::vector<std::int32_t>{1}));
  EXPECT_EQ(table.deadline_count(), 0u);
}

}  // namespace
}  // namespace pushgw::h2
