#include "pushgw/queue/job_store.hpp"

#include <algorithm>

#include <boost/asio.hpp>

#include "pushgw/common/async.hpp"
#include "pushgw/queue/element.hpp"
#include "pushgw/queue/scripts.hpp"

namespace pushgw::queue {

namespace asio = boost::asio;
using boost::system::error_code;

namespace {

error_code unexpected_reply() { return redis::make_error_code(redis::error::unexpected_reply); }

// A list of strings built outside any co_await expression: GCC 12 rejects a braced list written
// inside one ("array used as initializer").
template <class... Args>
std::vector<std::string> strings(Args&&... args) {
  std::vector<std::string> out;
  (out.emplace_back(std::forward<Args>(args)), ...);
  return out;
}

// A plan's script arguments (the ack and replace scripts'): z, (due, text) × z, d, entry × d.
void append_plan(std::vector<std::string>& args, const AckPlan& plan) {
  args.push_back(std::to_string(plan.retry.size()));
  for (const auto& [due, text] : plan.retry) {
    args.push_back(std::to_string(due));
    args.push_back(text);
  }
  args.push_back(std::to_string(plan.dead.size()));
  for (const auto& entry : plan.dead) args.push_back(entry);
}

// The lane an ack batch is for: the batcher's keys are lane names.
Lane lane_named(std::string_view name) { return std::get<Lane>(Lane::parse(name)); }

}  // namespace

JobStore::JobStore(redis::Client& redis, const Keys& keys, std::string instance)
    : redis_(redis),
      keys_(keys),
      instance_(std::move(instance)),
      acks_([this](const std::string& lane, std::vector<PendingAck> acks) {
              return ack_call(lane_named(lane), std::move(acks));
            },
            kMaxAcksPerCall) {
  for (const Lane lane : Lane::all()) processing_[lane.index()] = keys_.processing(lane, instance_);
}

asio::awaitable<Taken> JobStore::take_now(Lane lane, std::size_t max) {
  Taken taken;
  if (max == 0) co_return taken;
  const auto keys = strings(keys_.lane(lane).queue, processing(lane));
  const auto script_args = strings(std::to_string(max));
  auto [ec, reply] = co_await eval_script(redis_, take_script(), keys, script_args);
  if (!ec && reply.type != redis::Reply::Type::array) ec = unexpected_reply();
  taken.ec = ec;
  if (ec) co_return taken;
  for (auto& element : reply.elements) taken.elements.push_back(std::move(element.str));
  held_.hold(lane, taken.elements);
  co_return taken;
}

asio::awaitable<Taken> JobStore::take_blocking(redis::Client& blocking, Lane lane, std::chrono::milliseconds block) {
  Taken taken;
  const double seconds = static_cast<double>(block.count()) / 1000.0;
  redis::Request request;
  request.push("BLMOVE", keys_.lane(lane).queue, processing(lane), "RIGHT", "LEFT", std::to_string(seconds));
  auto result = co_await blocking.exec(std::move(request));
  if (result.ec) {
    taken.ec = result.ec;
    co_return taken;
  }
  const auto& reply = result.replies.at(0);
  if (reply.is_nil()) co_return taken;
  if (reply.type != redis::Reply::Type::string) {
    taken.ec = unexpected_reply();
    co_return taken;
  }
  taken.elements.push_back(reply.str);
  held_.hold(lane, taken.elements);
  co_return taken;
}

asio::awaitable<error_code> JobStore::ack(Lane lane, std::string_view element, const AckPlan& plan) {
  const auto executor = co_await asio::this_coro::executor;
  auto queue_ack = [&](std::function<void(error_code)> done) {
    acks_.add(executor, lane.name(), PendingAck{element, &plan, std::move(done)});
  };
  co_return co_await common::await_callback<error_code>(queue_ack);
}

// Acks with nothing to write (the common case: every token delivered) are plain LREMs, one
// command each in one pipeline: the same effect as the script, without its per-ack Lua
// overhead (~2 µs in Redis). Any retry or dead letter in the batch sends it all to the script.
asio::awaitable<error_code> JobStore::remove_acked(Lane lane, const std::vector<PendingAck>& acks) {
  redis::Request request;
  for (const auto& ack : acks) request.push("LREM", processing(lane), "-1", ack.element);
  auto result = co_await redis_.exec(std::move(request));
  if (result.ec) co_return result.ec;
  for (const auto& reply : result.replies) {
    if (reply.type != redis::Reply::Type::integer) co_return unexpected_reply();
  }
  co_return error_code{};
}

asio::awaitable<void> JobStore::ack_call(Lane lane, std::vector<PendingAck> acks) {
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
    ec = unexpected_reply();  // out of memory: every caller retries its ack
  }
  if (!ec) {
    for (const auto& ack : acks) held_.release(lane, std::string(ack.element));
  }
  // Each caller resumes later (its waiter is woken, not run here); element and plan are not
  // used after this.
  for (auto& ack : acks) ack.done(ec);
}

asio::awaitable<error_code> JobStore::ack_with_script(Lane lane, const std::vector<PendingAck>& acks) {
  std::vector<std::string> args;
  args.push_back(std::to_string(acks.size()));
  for (const auto& ack : acks) {
    args.emplace_back(ack.element);
    append_plan(args, *ack.plan);
  }
  const LaneKeys& lane_keys = keys_.lane(lane);
  const auto keys = strings(processing(lane), lane_keys.retry, lane_keys.dead);
  auto [call_ec, reply] = co_await eval_script(redis_, ack_script(), keys, args);
  co_return call_ec;
}

asio::awaitable<error_code> JobStore::replace(Lane lane, std::string_view element, std::string_view replacement,
                                              const AckPlan& plan) {
  const LaneKeys& lane_keys = keys_.lane(lane);
  const auto keys = strings(processing(lane), lane_keys.retry, lane_keys.dead);
  auto script_args = strings(element, replacement);
  append_plan(script_args, plan);
  auto [ec, reply] = co_await eval_script(redis_, replace_script(), keys, script_args);
  if (!ec) {
    held_.release(lane, std::string(element));
    held_.hold(lane, strings(replacement));
  }
  co_return ec;
}

asio::awaitable<std::pair<error_code, std::size_t>> JobStore::move_due(Lane lane, std::int64_t now_ms,
                                                                       std::size_t max) {
  const auto keys = strings(keys_.lane(lane).retry, keys_.lane(lane).queue);
  const auto script_args = strings(std::to_string(now_ms), std::to_string(max));
  auto [ec, reply] = co_await eval_script(redis_, due_script(), keys, script_args);
  if (ec) co_return std::pair{ec, std::size_t{0}};
  if (reply.type != redis::Reply::Type::integer) co_return std::pair{unexpected_reply(), std::size_t{0}};
  co_return std::pair{error_code{}, static_cast<std::size_t>(reply.integer)};
}

asio::awaitable<std::pair<error_code, bool>> JobStore::claim(std::string_view app, std::string_view id,
                                                             std::string_view job_id, std::chrono::milliseconds ttl) {
  const auto keys = strings(keys_.idempotency(app, id));
  const auto script_args = strings(std::string(job_id), std::to_string(ttl.count()));
  auto [ec, reply] = co_await eval_script(redis_, claim_script(), keys, script_args);
  if (ec) co_return std::pair{ec, false};
  if (reply.type != redis::Reply::Type::integer) co_return std::pair{unexpected_reply(), false};
  co_return std::pair{error_code{}, reply.integer == 1};
}

asio::awaitable<std::pair<error_code, std::vector<std::string>>> JobStore::whole_list(const std::string& key) {
  redis::Request range;
  range.push("LRANGE", key, "0", "-1");
  auto result = co_await redis_.exec(std::move(range));
  std::vector<std::string> elements;
  if (result.ec) co_return std::pair{result.ec, std::move(elements)};
  auto& list = result.replies.at(0);
  if (list.type != redis::Reply::Type::array) co_return std::pair{unexpected_reply(), std::move(elements)};
  for (auto& element : list.elements) elements.push_back(std::move(element.str));
  co_return std::pair{error_code{}, std::move(elements)};
}

asio::awaitable<Requeued> JobStore::requeue_processing(std::string_view instance, Lane lane,
                                                       std::size_t max_redeliveries, bool as_new,
                                                       std::int64_t now_ms) {
  Requeued out;
  const std::string list_key = keys_.processing(lane, instance);
  auto [list_ec, list] = co_await whole_list(list_key);
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
      letter.lane = std::string(lane.name());
      letter.instance = std::string(instance);
      letter.at_ms = now_ms;
      args.push_back(dead_letter_entry(redelivery.element, letter));
      args.emplace_back("dead");
    } else {
      args.push_back(std::move(redelivery.element));
      args.emplace_back("queue");
    }
  }
  const auto keys = strings(list_key, keys_.lane(lane).queue, keys_.lane(lane).dead);
  auto [ec, reply] = co_await eval_script(redis_, requeue_script(), keys, args);
  if (ec) {
    out.ec = ec;
    co_return out;
  }
  if (reply.type != redis::Reply::Type::array || reply.elements.size() != 2) {
    out.ec = unexpected_reply();
    co_return out;
  }
  out.requeued = static_cast<std::size_t>(reply.elements[0].integer);
  out.dead = static_cast<std::size_t>(reply.elements[1].integer);
  co_return out;
}

asio::awaitable<Requeued> JobStore::requeue_stranded(Lane lane) {
  Requeued out;
  auto [list_ec, list] = co_await whole_list(processing(lane));
  if (list_ec) {
    out.ec = list_ec;
    co_return out;
  }
  std::vector<std::string> args;
  for (auto& element : held_.stranded(lane, list)) {
    args.push_back(element);
    args.push_back(std::move(element));
    args.emplace_back("queue");
  }
  if (args.empty()) co_return out;
  const auto keys = strings(processing(lane), keys_.lane(lane).queue, keys_.lane(lane).dead);
  auto [ec, reply] = co_await eval_script(redis_, requeue_script(), keys, args);
  if (ec || reply.type != redis::Reply::Type::array || reply.elements.size() != 2) {
    out.ec = ec ? ec : unexpected_reply();
    co_return out;
  }
  out.requeued = static_cast<std::size_t>(reply.elements[0].integer);
  held_.returned(lane);
  co_return out;
}

asio::awaitable<std::pair<error_code, std::array<JobStore::Depths, Lane::kCount>>> JobStore::depths() {
  redis::Request request;
  for (const Lane lane : Lane::all()) {
    request.push("LLEN", keys_.lane(lane).queue);
    request.push("LLEN", processing(lane));
    request.push("ZCARD", keys_.lane(lane).retry);
  }
  auto result = co_await redis_.exec(std::move(request));
  std::array<Depths, Lane::kCount> out{};
  if (result.ec) co_return std::pair{result.ec, out};
  for (const Lane lane : Lane::all()) {
    const std::size_t at = 3 * lane.index();
    Depths& d = out[lane.index()];
    d.queue = result.replies.at(at).integer;
    d.processing = result.replies.at(at + 1).integer;
    d.retry = result.replies.at(at + 2).integer;
  }
  co_return std::pair{error_code{}, out};
}

}  // namespace pushgw::queue
