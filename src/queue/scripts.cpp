#include "pushgw/queue/scripts.hpp"

#include <openssl/evp.h>

#include <boost/asio/awaitable.hpp>

#include "digest.hpp"

namespace pushgw::queue {

using boost::system::error_code;

namespace {

Script make(std::string_view name, std::string_view text) {
  return Script{name, text, detail::hex_digest(EVP_sha1(), text)};
}

// Takes up to n jobs from the queue's tail onto the processing list's head, the same as n
// LMOVE RIGHT LEFT (the same order in both lists, the oldest first in the reply), with three
// commands instead of n: each redis.call from Lua costs about a microsecond.
constexpr std::string_view kTake = R"lua(
local want = tonumber(ARGV[1])
if not want or want < 1 then return {} end  -- LRANGE from -0 would take the whole queue
local taken = redis.call('LRANGE', KEYS[1], -want, -1)
local n = #taken
if n == 0 then return taken end
redis.call('LTRIM', KEYS[1], 0, -n - 1)
local out = {}
for i = 1, n do out[i] = taken[n + 1 - i] end
for first = 1, n, 1000 do  -- unpack() has a stack limit
  redis.call('LPUSH', KEYS[2], unpack(out, first, math.min(first + 999, n)))
end
return out
)lua";

// Acks of one lane in one call: ARGV = n, then per ack: element, z, (due, job) × z, d, dead × d.
// An ack whose element is no longer in the processing list (acked before, or requeued) writes
// nothing. LREM from the tail (count -1): elements are taken onto the head, so the oldest, the
// ones most likely done, sit at the tail; scanning from the head walked past every job in
// progress. Returns how many elements were removed.
constexpr std::string_view kAck = R"lua(
local removed = 0
local i = 2
for _ = 1, tonumber(ARGV[1]) do
  local present = redis.call('LREM', KEYS[1], -1, ARGV[i]) > 0
  i = i + 1
  local z = tonumber(ARGV[i]); i = i + 1
  if present then
    for k = 0, z - 1 do redis.call('ZADD', KEYS[2], ARGV[i + 2 * k], ARGV[i + 2 * k + 1]) end
  end
  i = i + 2 * z
  local d = tonumber(ARGV[i]); i = i + 1
  if present then
    for k = 0, d - 1 do redis.call('LPUSH', KEYS[3], ARGV[i + k]) end
    removed = removed + 1
  end
  i = i + d
end
return removed
)lua";

constexpr std::string_view kRequeue = R"lua(
local requeued, dead = 0, 0
for i = 1, #ARGV, 3 do
  if redis.call('LREM', KEYS[1], 1, ARGV[i]) == 1 then
    if ARGV[i + 2] == 'dead' then
      redis.call('LPUSH', KEYS[3], ARGV[i + 1]); dead = dead + 1
    else
      redis.call('RPUSH', KEYS[2], ARGV[i + 1]); requeued = requeued + 1
    end
  end
end
return {requeued, dead}
)lua";

constexpr std::string_view kDue = R"lua(
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
for _, v in ipairs(due) do
  redis.call('ZREM', KEYS[1], v)
  redis.call('RPUSH', KEYS[2], v)
end
return #due
)lua";

constexpr std::string_view kReplace = R"lua(
if redis.call('LREM', KEYS[1], 1, ARGV[1]) == 0 then return 0 end
redis.call('LPUSH', KEYS[1], ARGV[2])
local i = 3
local z = tonumber(ARGV[i]); i = i + 1
for k = 0, z - 1 do redis.call('ZADD', KEYS[2], ARGV[i + 2 * k], ARGV[i + 2 * k + 1]) end
i = i + 2 * z
local d = tonumber(ARGV[i]); i = i + 1
for k = 0, d - 1 do redis.call('LPUSH', KEYS[3], ARGV[i + k]) end
return 1
)lua";

constexpr std::string_view kClaim = R"lua(
local v = redis.call('GET', KEYS[1])
if not v then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
if v == ARGV[1] then return 1 end
return 0
)lua";

// One step, so two instances can never both believe they hold the lease (a GET then a SET
// could interleave with another instance's), and a renewal never outlives a lost lease.
constexpr std::string_view kLease = R"lua(
local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
)lua";

// Marks dead tokens unless the backend reactivated one after the provider's "invalid since"
// (an APNs 410 older than a DELETE /tokens/...: the device registered the token again). One
// HMGET and one HSET per 1000 tokens, not a call per token (Lua's unpack has a limit too).
constexpr std::string_view kMark = R"lua(
local n = #ARGV / 3
local marked = {}
for first = 1, n, 1000 do
  local last = math.min(first + 999, n)
  local tokens = {}
  for i = first, last do tokens[#tokens + 1] = ARGV[3 * i - 2] end
  local back = redis.call('HMGET', KEYS[2], unpack(tokens))
  local fields = {}
  for i = first, last do
    local since = ARGV[3 * i]
    local at = back[i - first + 1]
    if since == '' or not at or tonumber(at) <= tonumber(since) then
      fields[#fields + 1] = ARGV[3 * i - 2]
      fields[#fields + 1] = ARGV[3 * i - 1]
      marked[#marked + 1] = i
    end
  end
  if #fields > 0 then redis.call('HSET', KEYS[1], unpack(fields)) end
end
return marked
)lua";

constexpr std::string_view kReactivate = R"lua(
local was = redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
return was
)lua";

// One HSCAN page of a hash whose values carry a unix-ms time (ARGV[4], a Lua pattern with one
// capture); fields older than ARGV[2] are deleted. A value without one is left alone.
constexpr std::string_view kExpire = R"lua(
local page = redis.call('HSCAN', KEYS[1], ARGV[1], 'COUNT', ARGV[3])
local removed = 0
local fields = page[2]
for i = 1, #fields, 2 do
  local at = tonumber(string.match(fields[i + 1], ARGV[4]))
  if at and at < tonumber(ARGV[2]) then
    redis.call('HDEL', KEYS[1], fields[i])
    removed = removed + 1
  end
end
return {page[1], removed}
)lua";

// A live web message: history, then the publish that live subscribers receive. The oldest
// entries go with XDEL rather than XADD's MAXLEN: Redis 7 records XDEL's newest deleted id
// (XINFO STREAM max-deleted-entry-id), which tells a resuming client it missed messages;
// trimming records nothing. ARGV[4] is PUBLISH, or SPUBLISH in Redis Cluster (sharded pub/sub:
// the channel is the stream's key, so it is in the script's slot).
constexpr std::string_view kPublish = R"lua(
local over = redis.call('XLEN', KEYS[1]) - tonumber(ARGV[2]) + 1
if over > 0 then
  for _, entry in ipairs(redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', over)) do
    redis.call('XDEL', KEYS[1], entry[1])
  end
end
local id = redis.call('XADD', KEYS[1], '*', 'n', ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call(ARGV[4], KEYS[1], id .. ' ' .. ARGV[1])
return id
)lua";

// What a resuming client missed. XINFO STREAM's max-deleted-entry-id (Redis 7) tells whether
// trimming removed a message after ARGV[1].
constexpr std::string_view kReplayAfter = R"lua(
if redis.call('EXISTS', KEYS[1]) == 0 then return {0} end
local info = redis.call('XINFO', 'STREAM', KEYS[1])
local gap = 0
for i = 1, #info, 2 do
  if info[i] == 'max-deleted-entry-id' then
    local deleted = info[i + 1]
    local dms, dseq = string.match(deleted, '^(%d+)-(%d+)$')
    local ams, aseq = string.match(ARGV[1], '^(%d+)-(%d+)$')
    if dms and ams and (tonumber(dms) > tonumber(ams) or (dms == ams and tonumber(dseq) > tonumber(aseq))) then
      gap = 1
    end
  end
end
local out = {gap, 0}
for _, entry in ipairs(redis.call('XRANGE', KEYS[1], ARGV[1], '+')) do
  if entry[1] == ARGV[1] then
    out[2] = 1
  end
  out[#out + 1] = entry[1]
  out[#out + 1] = entry[2][2]
end
return out
)lua";

// Dead letters back to their queue: each entry removed once (from the old end) and, only if it
// was there, its replay element pushed at the queue's consumer end. Returns how many moved.
constexpr std::string_view kReplay = R"lua(
local moved = 0
for i = 1, #ARGV, 2 do
  if redis.call('LREM', KEYS[1], -1, ARGV[i]) == 1 then
    redis.call('RPUSH', KEYS[2], ARGV[i + 1])
    moved = moved + 1
  end
end
return moved
)lua";

bool is_noscript(const redis::Reply& reply) {
  return reply.is_error() && reply.str.rfind("NOSCRIPT", 0) == 0;
}

}  // namespace

const Script& take_script() {
  static const Script s = make("take", kTake);
  return s;
}
const Script& ack_script() {
  static const Script s = make("ack", kAck);
  return s;
}
const Script& requeue_script() {
  static const Script s = make("requeue", kRequeue);
  return s;
}
const Script& due_script() {
  static const Script s = make("due", kDue);
  return s;
}
const Script& replace_script() {
  static const Script s = make("replace", kReplace);
  return s;
}
const Script& claim_script() {
  static const Script s = make("claim", kClaim);
  return s;
}
const Script& lease_script() {
  static const Script s = make("lease", kLease);
  return s;
}
const Script& replay_script() {
  static const Script s = make("replay", kReplay);
  return s;
}
const Script& mark_script() {
  static const Script s = make("mark", kMark);
  return s;
}
const Script& reactivate_script() {
  static const Script s = make("reactivate", kReactivate);
  return s;
}
const Script& expire_script() {
  static const Script s = make("expire", kExpire);
  return s;
}
const Script& publish_script() {
  static const Script s = make("publish", kPublish);
  return s;
}
const Script& replay_after_script() {
  static const Script s = make("replay_after", kReplayAfter);
  return s;
}

boost::asio::awaitable<std::pair<error_code, redis::Reply>> eval_script(redis::Client& redis, const Script& script,
                                                                        const std::vector<std::string>& keys,
                                                                        const std::vector<std::string>& args) {
  const std::string key_count = std::to_string(keys.size());
  for (int pass = 0; pass < 2; ++pass) {
    const bool by_sha = pass == 0;
    std::vector<std::string_view> argv;
    argv.push_back(by_sha ? "EVALSHA" : "EVAL");
    argv.push_back(by_sha ? std::string_view(script.sha1) : script.text);
    argv.push_back(key_count);
    argv.insert(argv.end(), keys.begin(), keys.end());
    argv.insert(argv.end(), args.begin(), args.end());
    redis::Request request;
    request.push_argv(argv);
    auto result = co_await redis.exec(std::move(request));
    if (result.ec) co_return std::pair{result.ec, redis::Reply{}};
    redis::Reply reply = std::move(result.replies.at(0));
    if (by_sha && is_noscript(reply)) continue;
    if (reply.is_error()) co_return std::pair{redis::make_error_code(redis::error::unexpected_reply), std::move(reply)};
    co_return std::pair{error_code{}, std::move(reply)};
  }
  co_return std::pair{redis::make_error_code(redis::error::unexpected_reply), redis::Reply{}};
}

}  // namespace pushgw::queue
