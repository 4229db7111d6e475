#include "pushgw/queue/producer.hpp"

#include <algorithm>
#include <limits>
#include <variant>

#include <boost/asio.hpp>

#include "pushgw/job/codec.hpp"

namespace pushgw::queue {

namespace asio = boost::asio;

namespace {

// Why a reply means "not stored", or "" when it is a success.
std::string reply_problem(const redis::Reply& reply) {
  if (reply.is_error()) return reply.str;
  if (reply.is_nil()) return "transaction aborted";
  for (const auto& element : reply.elements) {
    if (auto problem = reply_problem(element); !problem.empty()) return problem;
  }
  return {};
}

// An error after the transaction was written: Redis may have run it.
bool outcome_unknown(const boost::system::error_code& ec) {
  return ec == redis::make_error_code(redis::error::timeout) ||
         ec == redis::make_error_code(redis::error::connection_lost) ||
         ec == redis::make_error_code(redis::error::protocol);
}

Lane lane_of_job(const job::Notification& n) {
  const auto parsed = Lane::parse(job::lane_of(n));
  // The job codec accepts lane names only, so a decoded job's lane always parses.
  const Lane* lane = std::get_if<Lane>(&parsed);
  return lane ? *lane : Lane::default_lane();
}

}  // namespace

std::vector<NewJob> new_jobs(const std::vector<job::Notification>& jobs, std::int64_t now_ms) {
  constexpr auto kMaxSeconds = std::numeric_limits<std::int64_t>::max() / 1000;
  std::vector<NewJob> out;
  out.reserve(jobs.size());
  for (const auto& j : jobs) {
    NewJob entry{lane_of_job(j), job::encode_job_string(j), std::nullopt};
    if (j.send_at) {
      const auto due_ms = std::clamp<std::int64_t>(*j.send_at, 0, kMaxSeconds) * 1000;
      if (due_ms > now_ms) entry.due_ms = due_ms;
    }
    out.push_back(std::move(entry));
  }
  return out;
}

Producer::Producer(redis::Client& redis, const Keys& keys) : redis_(redis), keys_(keys) {}

asio::awaitable<Enqueued> Producer::enqueue(const std::vector<NewJob>& jobs) {
  // Per lane, one MULTI/EXEC of one LPUSH of the jobs due now (in job order, so consumers
  // popping from the right take them in order) and one ZADD of the scheduled ones. Every key
  // of a lane has the lane's hash tag, so each transaction stays in one Cluster slot; the
  // transactions of all lanes go in one pipeline (one write, one round trip).
  redis::Request request;
  std::vector<std::string_view> argv;
  std::vector<std::string> scores;  // kept alive while argv points into it
  std::vector<std::pair<Lane, std::size_t>> blocks;  // lane, commands in its MULTI ... EXEC
  for (const Lane lane : Lane::all()) {
    std::size_t commands = 0;
    for (const bool scheduled : {false, true}) {
      scores.clear();
      scores.reserve(jobs.size());
      argv.assign({scheduled ? "ZADD" : "LPUSH", scheduled ? keys_.lane(lane).retry : keys_.lane(lane).queue});
      for (const auto& job : jobs) {
        if (job.lane != lane || job.due_ms.has_value() != scheduled) continue;
        if (scheduled) argv.push_back(scores.emplace_back(std::to_string(*job.due_ms)));
        argv.push_back(job.text);
      }
      if (argv.size() == 2) continue;
      if (commands++ == 0) request.push("MULTI");
      request.push_argv(argv);
    }
    if (commands == 0) continue;
    request.push("EXEC");
    blocks.emplace_back(lane, commands + 2);
  }
  if (blocks.empty()) co_return Enqueued{};

  const auto result = co_await redis_.exec(std::move(request));
  if (result.ec) {
    co_return Enqueued{outcome_unknown(result.ec) ? Stored::unknown : Stored::none, "redis: " + result.ec.message()};
  }
  // An error reply (EXECABORT, OOM, READONLY...) means that lane's transaction did not run.
  std::string stored_lanes;
  std::string problem;
  std::size_t next = 0;
  for (const auto& [lane, size] : blocks) {
    std::string lane_problem;
    for (std::size_t i = next; i < next + size && lane_problem.empty(); ++i) lane_problem = reply_problem(result.replies.at(i));
    next += size;
    if (lane_problem.empty()) {
      stored_lanes += (stored_lanes.empty() ? "" : ", ") + std::string(lane.name());
    } else if (problem.empty()) {
      problem = "redis: " + lane_problem;
    }
  }
  if (problem.empty()) co_return Enqueued{};
  if (stored_lanes.empty()) co_return Enqueued{Stored::none, problem};
  // Another lane's transaction ran: a retry would store those jobs twice.
  co_return Enqueued{Stored::unknown, problem + " (the jobs of lane " + stored_lanes + " were stored)"};
}

}  // namespace pushgw::queue
