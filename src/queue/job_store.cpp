#include "pushgw/queue/job_store.hpp"

#include <algorithm>

#include <boost/asio.hpp>

#include "pushgw/common/async.hpp"
#include "pushgw/queue/element.hpp"

namespace pushgw::queue {

namespace asio = boost::asio;
using boost::system::error_code;

namespace {

struct ErrorCategory : boost::system::error_category {
  const char* name() const noexcept override { return "pushgw.queue"; }
  std::string message(int value) const override {
    switch (static_cast<error>(value)) {
      case error::unexpected_reply: return "unexpected reply from Redis";
    }
    return "unknown queue error";
  }
};

bool is_noscript(const redis::Reply& reply) {
  return reply.is_error() && reply.str.rfind("NOSCRIPT", 0) == 0;
}

std::string ms_text(std::chrono::milliseconds d) { return std::to_string(d.count()); }

// A list of strings built outside any co_await expression: GCC 12 rejects a braced list written
// inside one ("array used as initializer").
template <class... Args>
std::vector<std::string> strings(Args&&... args) {
  std::vector<std::string> out;
  (out.emplace_back(std::forward<Args>(args)), ...);
  return out;
}

}  // namespace

const boost::system::error_category& error_category() {
  static const ErrorCategory category;
  return category;
}
error_code make_error_code(error e) { return {static_cast<int>(e), error_category()}; }

JobStore::JobStore(redis::Client& redis, Keys keys, std::string instance)
    : redis_(redis),
      keys_(std::move(keys)),
      instance_(std::move(instance)),
      acks_([this](const std::string& lane, std::vector<PendingAck> acks) { return ack_call(lane, std::move(acks)); },
            kMaxAcksPerCall) {}

asio::awaitable<std::pair<error_code, redis::Reply>> JobStore::eval(const Script& script,
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
    auto result = co_await redis_.exec(std::move(request));
    if (result.ec) co_return std::pair{result.ec, redis::Reply{}};
    redis::Reply reply = std::move(result.replies.at(0));
    if (by_sha && is_noscript(reply)) continue;
    if (reply.is_error()) co_return std::pair{make_error_code(error::unexpected_reply), std::move(reply)};
    co_return std::pair{error_code{}, std::move(reply)};
  }
  co_return std::pair{make_error_code(error::unexpected_reply), redis::Reply{}};
}

asio::awaitable<Taken> JobStore::take_now(std::string_view lane, std::size_t max) {
  Taken taken;
  if (max == 0) co_return taken;
  const auto keys = strings(keys_.queue(lane), keys_.processing(lane, instance_));
  const auto script_args = strings(std::to_string(max));
  auto [ec, reply] = co_await eval(take_script(), keys, script_args);
  if (!ec && reply.type != redis::Reply::Type::array) ec = make_error_code(error::unexpected_reply);
  taken.ec = ec;
  if (ec) co_return taken;
  for (auto& element : reply.elements) taken.elements.push_back(std::move(element.str));
  hold(lane, taken.elements);
  co_return taken;
}

asio::awaitable<Taken> JobStore::take_blocking(redis::Client& blocking, std::string_view lane,
                                               std::chrono::milliseconds block) {
  Taken taken;
  const double seconds = static_cast<double>(block.count()) / 1000.0;
  redis::Request request;
  request.push("BLMOVE", keys_.queue(lane), keys_.processing(lane, instance_), "RIGHT", "LEFT",
               std::to_string(seconds));
  auto result = co_await blocking.exec(std::move(request));
  if (result.ec) {
    taken.ec = result.ec;
    co_return taken;
  }
  const auto& reply = result.replies.at(0);
  if (reply.is_nil()) co_return taken;
  if (reply.type != redis::Reply::Type::string) {
    taken.ec = make_error_code(error::unexpected_reply);
    co_return taken;
  }
  taken.elements.push_back(reply.str);
  hold(lane, taken.elements);
  co_return taken;
}

asio::awaitable<error_code> JobStore::ack(std::string_view lane, std::string_view element, const AckPlan& plan) {
  const auto executor = co_await asio::this_coro::executor;
  auto queue_ack = [&](std::function<void(error_code)> done) {
    acks_.add(executor, lane, PendingAck{element, &plan, std::move(done)});
  };
  co_return co_await common::await_callback<error_code>(queue_ack);
}

// Acks with nothing to write (the common case: every token delivered) are plain LREMs, one
// command each in one pipeline: the same effect as the script, without its per-ack Lua
// overhead (~2 µs in Redis). Any retry or dead letter in the batch sends it all to the script.
asio::awaitable<error_code> JobStore::remove_acked(const std::string& lane, const std::vector<PendingAck>& acks) {
  const std::string processing = keys_.processing(lane, instance_);
  redis::Request request;
  for (const auto& ack : acks) request.push("LREM", processing, "-1", ack.element);
  auto result = co_await redis_.exec(std::move(request));
  if (result.ec) co_return result.ec;
  for (const auto& reply : result.replies) {
    if (reply.type != redis::Reply::Type::integer) co_return make_error_code(error::unexpected_reply);
  }
  co_return error_code{};
}

asio::awaitable<void> JobStore::ack_call(const std::string& lane, std::vector<PendingAck> acks) {
  error_code ec;
  try {
    const bool nothing_to_write = std::all_of(acks.begin(), acks.end(), [](const PendingAck& ack) {
      return ack.plan->retry.empty() && ack.plan->dead.empty();
    });
    if (nothing_to_write) {
      ec = co_await remove_acked(lane, acks);
    } else {
      ec = co_await ack_with_script(lane, acks);
    }
  } catch (const std::exception&) {
    ec = make_error_code(error::unexpected_reply);  // out of memory: every caller retries its ack
  }
  if (!ec) {
    for (const auto& ack : acks) release(lane, std::string(ack.element));
  }
  // Each caller resumes later (its waiter is woken, not run here); element and plan are not
  // used after this.
  for (auto& ack : acks) ack.done(ec);
}

asio::awaitable<error_code> JobStore::ack_with_script(const std::string& lane, const std::vector<PendingAck>& acks) {
  std::vector<std::string> args;
  args.push_back(std::to_string(acks.size()));
  for (const auto& ack : acks) {
    const AckPlan& plan = *ack.plan;
    args.emplace_back(ack.element);
    args.push_back(std::to_string(plan.retry.size()));
    for (const auto& [due, text] : plan.retry) {
      args.push_back(std::to_string(due));
      args.push_back(text);
    }
    args.push_back(std::to_string(plan.dead.size()));
    for (const auto& entry : plan.dead) args.push_back(entry);
  }
  const auto keys = strings(keys_.processing(lane, instance_), keys_.retry(lane), keys_.dead(lane));
  auto [call_ec, reply] = co_await eval(ack_script(), keys, args);
  co_return call_ec;
}

asio::awaitable<error_code> JobStore::replace(std::string_view lane, std::string_view element,
                                             std::string_view replacement) {
  const auto keys = strings(keys_.processing(lane, instance_));
  const auto script_args = strings(element, replacement);
  auto [ec, reply] = co_await eval(replace_script(), keys, script_args);
  if (!ec) {
    release(lane, std::string(element));
    hold(lane, strings(replacement));
  }
  co_return ec;
}

asio::awaitable<std::pair<error_code, std::size_t>> JobStore::move_due(std::string_view lane, std::int64_t now_ms,
                                                                       std::size_t max) {
  const auto keys = strings(keys_.retry(lane), keys_.queue(lane));
  const auto script_args = strings(std::to_string(now_ms), std::to_string(max));
  auto [ec, reply] = co_await eval(due_script(), keys, script_args);
  if (ec) co_return std::pair{ec, std::size_t{0}};
  if (reply.type != redis::Reply::Type::integer) {
    co_return std::pair{make_error_code(error::unexpected_reply), std::size_t{0}};
  }
  co_return std::pair{error_code{}, static_cast<std::size_t>(reply.integer)};
}

asio::awaitable<std::pair<error_code, bool>> JobStore::claim(std::string_view app, std::string_view id,
                                                             std::string_view job_id, std::chrono::milliseconds ttl) {
  const auto keys = strings(keys_.idempotency(app, id));
  const auto script_args = strings(std::string(job_id), ms_text(ttl));
  auto [ec, reply] = co_await eval(claim_script(), keys, script_args);
  if (ec) co_return std::pair{ec, false};
  if (reply.type != redis::Reply::Type::integer) co_return std::pair{make_error_code(error::unexpected_reply), false};
  co_return std::pair{error_code{}, reply.integer == 1};
}

asio::awaitable<error_code> JobStore::heartbeat(std::string_view info, std::chrono::milliseconds ttl) {
  redis::Request request;
  request.push("SET", keys_.instance(instance_), info, "PX", ms_text(ttl));
  request.push("SADD", keys_.instances(), instance_);
  auto result = co_await redis_.exec(std::move(request));
  if (result.ec) co_return result.ec;
  for (const auto& reply : result.replies) {
    if (reply.is_error()) co_return make_error_code(error::unexpected_reply);
  }
  co_return error_code{};
}

asio::awaitable<error_code> JobStore::sign_off() {
  redis::Request request;
  request.push("DEL", keys_.instance(instance_));
  request.push("SREM", keys_.instances(), instance_);
  auto result = co_await redis_.exec(std::move(request));
  co_return result.ec;
}

asio::awaitable<bool> JobStore::take_reaper_lease(std::chrono::milliseconds ttl) {
  // SET NX takes a free lease; a lease we already hold is renewed.
  redis::Request request;
  request.push("SET", keys_.reaper_lease(), instance_, "NX", "PX", ms_text(ttl));
  request.push("GET", keys_.reaper_lease());
  auto result = co_await redis_.exec(std::move(request));
  if (result.ec) co_return false;
  if (result.replies.at(1).type != redis::Reply::Type::string || result.replies.at(1).str != instance_) co_return false;
  redis::Request renew;
  renew.push("PEXPIRE", keys_.reaper_lease(), ms_text(ttl));
  (void)co_await redis_.exec(std::move(renew));
  co_return true;
}

asio::awaitable<std::pair<error_code, std::vector<std::string>>> JobStore::dead_instances() {
  redis::Request members;
  members.push("SMEMBERS", keys_.instances());
  auto result = co_await redis_.exec(std::move(members));
  if (result.ec) co_return std::pair{result.ec, std::vector<std::string>{}};
  if (result.replies.at(0).type != redis::Reply::Type::array) {
    co_return std::pair{make_error_code(error::unexpected_reply), std::vector<std::string>{}};
  }
  std::vector<std::string> others;
  for (const auto& member : result.replies.at(0).elements) {
    if (member.str != instance_) others.push_back(member.str);
  }
  if (others.empty()) co_return std::pair{error_code{}, std::vector<std::string>{}};
  redis::Request exists;
  for (const auto& other : others) exists.push("EXISTS", keys_.instance(other));
  auto alive = co_await redis_.exec(std::move(exists));
  if (alive.ec) co_return std::pair{alive.ec, std::vector<std::string>{}};
  std::vector<std::string> dead;
  for (std::size_t i = 0; i < others.size(); ++i) {
    const auto& reply = alive.replies.at(i);
    if (reply.type == redis::Reply::Type::integer && reply.integer == 0) dead.push_back(others[i]);
  }
  co_return std::pair{error_code{}, std::move(dead)};
}

asio::awaitable<std::pair<error_code, std::vector<std::string>>> JobStore::whole_list(const std::string& key) {
  redis::Request range;
  range.push("LRANGE", key, "0", "-1");
  auto result = co_await redis_.exec(std::move(range));
  std::vector<std::string> elements;
  if (result.ec) co_return std::pair{result.ec, std::move(elements)};
  auto& list = result.replies.at(0);
  if (list.type != redis::Reply::Type::array) {
    co_return std::pair{make_error_code(error::unexpected_reply), std::move(elements)};
  }
  for (auto& element : list.elements) elements.push_back(std::move(element.str));
  co_return std::pair{error_code{}, std::move(elements)};
}

asio::awaitable<Requeued> JobStore::requeue_processing(std::string_view instance, std::string_view lane,
                                                       std::size_t max_redeliveries, bool as_new,
                                                       std::int64_t now_ms) {
  Requeued out;
  const std::string processing = keys_.processing(lane, instance);
  auto [list_ec, list] = co_await whole_list(processing);
  if (list_ec) {
    out.ec = list_ec;
    co_return out;
  }
  if (list.empty()) co_return out;

  std::vector<std::string> args;
  args.reserve(list.size() * 3);
  for (const auto& element : list) {
    args.push_back(element);
    if (as_new) {
      args.push_back(element);
      args.emplace_back("queue");
      continue;
    }
    Redelivery redelivery = mark_redelivered(element, max_redeliveries);
    if (redelivery.exhausted) {
      DeadLetter letter;
      letter.reason = DeadReason::redelivered;
      letter.error = "redelivered " + std::to_string(redelivery.redeliveries) + " times (more than queue.max_redeliveries = " +
                     std::to_string(max_redeliveries) + "): its instances kept dying while holding it";
      letter.lane = std::string(lane);
      letter.instance = std::string(instance);
      letter.at_ms = now_ms;
      args.push_back(dead_letter_entry(redelivery.element, letter));
      args.emplace_back("dead");
    } else {
      args.push_back(std::move(redelivery.element));
      args.emplace_back("queue");
    }
  }
  const auto keys = strings(processing, keys_.queue(lane), keys_.dead(lane));
  auto [ec, reply] = co_await eval(requeue_script(), keys, args);
  if (ec) {
    out.ec = ec;
    co_return out;
  }
  if (reply.type != redis::Reply::Type::array || reply.elements.size() != 2) {
    out.ec = make_error_code(error::unexpected_reply);
    co_return out;
  }
  out.requeued = static_cast<std::size_t>(reply.elements[0].integer);
  out.dead = static_cast<std::size_t>(reply.elements[1].integer);
  co_return out;
}

void JobStore::hold(std::string_view lane, const std::vector<std::string>& elements) {
  if (elements.empty()) return;
  auto it = held_.find(lane);
  if (it == held_.end()) it = held_.emplace(std::string(lane), std::unordered_map<std::string, std::size_t>{}).first;
  for (const auto& element : elements) ++it->second[element];
}

void JobStore::release(std::string_view lane, const std::string& element) {
  auto it = held_.find(lane);
  if (it == held_.end()) return;
  auto copy = it->second.find(element);
  if (copy == it->second.end()) return;
  if (--copy->second == 0) it->second.erase(copy);
}

asio::awaitable<Requeued> JobStore::requeue_stranded(std::string_view lane) {
  Requeued out;
  const std::string processing = keys_.processing(lane, instance_);
  auto [list_ec, list] = co_await whole_list(processing);
  if (list_ec) {
    out.ec = list_ec;
    co_return out;
  }
  // Copies in the list beyond the copies held (read after the reply: takes that completed
  // meanwhile are counted as held).
  std::unordered_map<std::string, std::size_t> surplus;
  for (const auto& element : list) ++surplus[element];
  if (auto it = held_.find(lane); it != held_.end()) {
    for (const auto& [element, copies] : it->second) {
      auto s = surplus.find(element);
      if (s == surplus.end()) continue;
      s->second = s->second > copies ? s->second - copies : 0;
    }
  }
  std::erase_if(surplus, [](const auto& entry) { return entry.second == 0; });

  auto& previous = stranded_[std::string(lane)];
  std::vector<std::string> args;
  for (auto& [element, copies] : surplus) {
    auto before = previous.find(element);
    if (before == previous.end()) continue;
    for (std::size_t i = 0; i < std::min(copies, before->second); ++i) {
      args.push_back(element);
      args.push_back(element);
      args.emplace_back("queue");
    }
  }
  previous = std::move(surplus);
  if (args.empty()) co_return out;
  const auto keys = strings(processing, keys_.queue(lane), keys_.dead(lane));
  auto [ec, reply] = co_await eval(requeue_script(), keys, args);
  if (ec || reply.type != redis::Reply::Type::array || reply.elements.size() != 2) {
    out.ec = ec ? ec : make_error_code(error::unexpected_reply);
    co_return out;
  }
  out.requeued = static_cast<std::size_t>(reply.elements[0].integer);
  previous.clear();
  co_return out;
}

asio::awaitable<error_code> JobStore::forget(std::string_view instance) {
  redis::Request request;
  request.push("SREM", keys_.instances(), instance);
  auto result = co_await redis_.exec(std::move(request));
  co_return result.ec;
}

asio::awaitable<std::pair<error_code, std::vector<JobStore::Depths>>> JobStore::depths() {
  redis::Request request;
  for (const auto lane : kLanes) {
    request.push("LLEN", keys_.queue(lane));
    request.push("LLEN", keys_.processing(lane, instance_));
    request.push("ZCARD", keys_.retry(lane));
  }
  auto result = co_await redis_.exec(std::move(request));
  std::vector<Depths> out;
  if (result.ec) co_return std::pair{result.ec, out};
  for (std::size_t i = 0; i < kLanes.size(); ++i) {
    Depths d;
    d.queue = result.replies.at(3 * i).integer;
    d.processing = result.replies.at(3 * i + 1).integer;
    d.retry = result.replies.at(3 * i + 2).integer;
    out.push_back(d);
  }
  co_return std::pair{error_code{}, std::move(out)};
}

}  // namespace pushgw::queue
