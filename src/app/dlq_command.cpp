#include "pushgw/app/dlq_command.hpp"

#include <boost/asio.hpp>
#include <spdlog/spdlog.h>

#include <chrono>
#include <iomanip>
#include <ostream>
#include <sstream>

#include "pushgw/common/quote.hpp"
#include "pushgw/queue/dead_letters.hpp"
#include "pushgw/redis/client.hpp"

namespace pushgw::app {

namespace asio = boost::asio;
using boost::system::error_code;

namespace {

// "2026-12-04T03:18:39Z" for unix ms.
std::string utc_time(std::int64_t at_ms) {
  const std::time_t seconds = static_cast<std::time_t>(at_ms / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  std::ostringstream out;
  out << std::put_time(&tm, "%Y-%m-%dT%H:%M:%SZ");
  return out.str();
}

void print_table(std::ostream& out, queue::Lane lane, const std::vector<queue::DeadEntry>& entries) {
  for (const auto& e : entries) {
    out << std::left << std::setw(21) << (e.at_ms > 0 ? utc_time(e.at_ms) : "?") << " " << std::setw(8) << lane.name()
        << " " << std::setw(18) << (e.reason.empty() ? "?" : e.reason) << " " << std::setw(34)
        << (e.job_id.empty() ? "-" : e.job_id) << " " << common::quote(e.error, 120) << "\n";
  }
}

struct Run {
  const DlqOptions& options;
  std::ostream& out;
  std::ostream& err;
  std::vector<queue::Lane> lanes;
  queue::DeadFilter filter;
  int code = 0;

  asio::awaitable<void> go(redis::Client& client, const queue::Keys& keys, std::chrono::milliseconds connect_within) {
    // Wait for the connection, as long as the configured connect timeout (and a retry) allow.
    asio::steady_timer wait(co_await asio::this_coro::executor);
    const auto until = std::chrono::steady_clock::now() + 2 * connect_within + std::chrono::milliseconds(500);
    while (!client.connected() && std::chrono::steady_clock::now() < until) {
      wait.expires_after(std::chrono::milliseconds(20));
      co_await wait.async_wait(asio::use_awaitable);
    }
    if (!client.connected()) {
      err << "pushgw dlq: cannot reach Redis: " << client.last_error().message() << "; nothing was changed\n";
      code = 1;
      co_return;
    }
    queue::DeadLetters dead(client, keys);

    // Read everything first: a replay refuses before moving anything when one entry cannot go.
    std::vector<std::pair<queue::Lane, std::vector<queue::DeadEntry>>> chosen;
    std::size_t total = 0;
    for (const queue::Lane lane : lanes) {
      auto [ec, entries] = co_await dead.list(lane, filter);
      if (ec) {
        err << "pushgw dlq: reading " << keys.lane(lane).dead << " failed: " << ec.message() << "; nothing was changed\n";
        code = 1;
        co_return;
      }
      total += entries.size();
      chosen.emplace_back(lane, std::move(entries));
    }

    if (options.action == "list") {
      if (!options.json) {
        out << std::left << std::setw(21) << "AT" << " " << std::setw(8) << "LANE" << " " << std::setw(18) << "REASON"
            << " " << std::setw(34) << "JOB" << " ERROR\n";
      }
      for (const auto& [lane, entries] : chosen) {
        if (options.json) {
          for (const auto& e : entries) out << e.text << "\n";
        } else {
          print_table(out, lane, entries);
        }
      }
      if (!options.json) out << total << " dead letter(s)\n";
      co_return;
    }

    if (options.action == "replay") {
      std::size_t unreadable = 0;
      for (const auto& [lane, entries] : chosen) {
        for (const auto& e : entries) {
          if (e.replay) continue;
          ++unreadable;
          err << "pushgw dlq: cannot replay the " << lane.name() << " entry of " << (e.at_ms > 0 ? utc_time(e.at_ms) : "?")
              << " (" << (e.reason.empty() ? "no reason" : e.reason) << "): " << e.unreadable << "\n";
        }
      }
      if (unreadable > 0) {
        err << "pushgw dlq: " << unreadable << " of " << total
            << " entries cannot be replayed; nothing was moved (narrow with --reason, or purge them)\n";
        code = 1;
        co_return;
      }
    }

    const bool replay = options.action == "replay";
    if (options.dry_run) {
      for (const auto& [lane, entries] : chosen) print_table(out, lane, entries);
      out << "dry run: would " << (replay ? "replay " : "purge ") << total << " dead letter(s)\n";
      co_return;
    }
    std::size_t done = 0;
    for (const auto& [lane, entries] : chosen) {
      auto [ec, n] = replay ? co_await dead.replay(lane, entries) : co_await dead.purge(lane, entries);
      done += n;
      if (ec) {
        err << "pushgw dlq: " << (replay ? "replaying" : "purging") << " lane " << lane.name() << " failed after "
            << done << " of " << total << ": " << ec.message() << "\n";
        code = 1;
        co_return;
      }
    }
    out << (replay ? "replayed " : "purged ") << done << " dead letter(s)";
    if (done < total) out << " (" << total - done << " were gone already)";
    out << "\n";
  }
};

}  // namespace

int dlq(const config::Config& config, const DlqOptions& options, std::ostream& out, std::ostream& err) {
  if (options.action != "list" && options.action != "replay" && options.action != "purge") {
    err << "pushgw dlq: unknown action " << common::quote(options.action) << "; expected list, replay or purge\n";
    return 2;
  }
  Run run{options, out, err, {}, {}};
  if (options.lane.empty()) {
    for (const queue::Lane lane : queue::Lane::all()) run.lanes.push_back(lane);
  } else {
    auto lane = queue::Lane::parse(options.lane);
    if (auto* e = std::get_if<queue::LaneError>(&lane)) {
      err << "pushgw dlq: --lane: " << e->message << "\n";
      return 2;
    }
    run.lanes.push_back(std::get<queue::Lane>(lane));
  }
  if (!options.reason.empty()) {
    run.filter.reason = queue::parse_dead_reason(options.reason);
    if (!run.filter.reason) {
      std::string known;
      for (const auto reason : queue::kDeadReasons) known += (known.empty() ? "" : ", ") + std::string(queue::to_string(reason));
      err << "pushgw dlq: --reason: unknown reason " << common::quote(options.reason) << "; expected one of " << known << "\n";
      return 2;
    }
  }
  run.filter.limit = options.limit;

  // A command's output is its own; the Redis client's info lines (connected, ...) are not.
  spdlog::set_level(spdlog::level::warn);
  asio::io_context io;
  redis::Client client(io.get_executor(), redis::client_config(config, "pushgw-dlq"));
  client.start();
  const queue::Keys keys(config.redis.prefix);
  asio::co_spawn(io, run.go(client, keys, config.redis.connect_timeout), [&](std::exception_ptr e) {
    if (e) {
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        err << "pushgw dlq: " << ex.what() << "\n";
        run.code = 1;
      }
    }
    client.stop();
  });
  io.run();
  return run.code;
}

}  // namespace pushgw::app
