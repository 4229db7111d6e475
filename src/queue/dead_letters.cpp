#include "pushgw/queue/dead_letters.hpp"

#include <nlohmann/json.hpp>

#include <boost/asio/awaitable.hpp>

#include "pushgw/job/codec.hpp"
#include "pushgw/queue/scripts.hpp"

namespace pushgw::queue {

using boost::system::error_code;

namespace {

error_code unexpected() { return redis::make_error_code(redis::error::unexpected_reply); }

std::string string_field(const nlohmann::json& j, const char* key) {
  const auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

std::variant<std::string, std::string> replay_element(const nlohmann::json& job) {
  auto decoded = job::decode_job_string(job::dump_compact(job));
  if (auto* e = std::get_if<job::FieldError>(&decoded)) {
    return std::variant<std::string, std::string>(std::in_place_index<1>,
                                                  (e->path.empty() ? std::string() : e->path + ": ") + e->message);
  }
  auto& notifications = std::get<std::vector<job::Notification>>(decoded);
  for (auto& n : notifications) {
    if (!n.job) continue;  // a producer's element: it gets its job id when it is taken
    n.job->attempt = 0;
    n.job->redeliveries = 0;
  }
  return std::variant<std::string, std::string>(std::in_place_index<0>, encode_element(notifications));
}

DeadEntry read_dead_entry(std::string text) {
  DeadEntry entry;
  entry.text = std::move(text);
  const auto j = nlohmann::json::parse(entry.text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) {
    entry.unreadable = "the entry is not a JSON object";
    return entry;
  }
  entry.reason = string_field(j, "reason");
  entry.error = string_field(j, "error");
  entry.lane = string_field(j, "lane");
  entry.instance = string_field(j, "instance");
  if (const auto at = j.find("at"); at != j.end() && at->is_number_integer()) entry.at_ms = at->get<std::int64_t>();
  const auto job = j.find("job");
  if (job == j.end()) {
    entry.unreadable = j.contains("raw") ? "its job was not JSON when it was dead-lettered (\"raw\")"
                                         : "the entry has no \"job\"";
    return entry;
  }
  if (job->is_object()) {
    if (const auto meta = job->find("job"); meta != job->end() && meta->is_object()) entry.job_id = string_field(*meta, "id");
  }
  auto replay = replay_element(*job);
  if (auto* element = std::get_if<0>(&replay)) {
    entry.replay = std::move(*element);
  } else {
    entry.unreadable = "its job does not decode: " + std::get<1>(replay);
  }
  return entry;
}

bool DeadFilter::matches(const DeadEntry& entry) const {
  return !reason || entry.reason == to_string(*reason);
}

boost::asio::awaitable<std::pair<error_code, std::vector<DeadEntry>>> DeadLetters::list(Lane lane, DeadFilter filter) {
  std::vector<DeadEntry> entries;
  const std::string& key = keys_.lane(lane).dead;
  // Pages from the old end (the tail: LPUSHed entries are newest at the head).
  constexpr long long kPage = 1000;
  for (long long end = -1;; end -= kPage) {
    redis::Request request;
    request.push("LRANGE", key, std::to_string(end - kPage + 1), std::to_string(end));
    auto result = co_await redis_.exec(std::move(request));
    if (result.ec) co_return std::pair{result.ec, std::move(entries)};
    const auto& page = result.replies.at(0);
    if (page.type != redis::Reply::Type::array) co_return std::pair{unexpected(), std::move(entries)};
    for (auto it = page.elements.rbegin(); it != page.elements.rend(); ++it) {
      DeadEntry entry = read_dead_entry(it->str);
      if (!filter.matches(entry)) continue;
      entries.push_back(std::move(entry));
      if (filter.limit > 0 && entries.size() >= filter.limit) co_return std::pair{error_code{}, std::move(entries)};
    }
    if (static_cast<long long>(page.elements.size()) < kPage) break;
  }
  co_return std::pair{error_code{}, std::move(entries)};
}

boost::asio::awaitable<std::pair<error_code, std::size_t>> DeadLetters::replay(Lane lane,
                                                                               const std::vector<DeadEntry>& entries) {
  const std::vector<std::string> keys{keys_.lane(lane).dead, keys_.lane(lane).queue};
  std::size_t moved = 0;
  // Newest first, each pushed at the consumer end: the oldest is taken first. A script call
  // per 100 entries: Redis runs nothing else during one.
  for (std::size_t done = 0; done < entries.size(); done += 100) {
    std::vector<std::string> args;
    for (std::size_t k = done; k < std::min(entries.size(), done + 100); ++k) {
      const auto& e = entries[entries.size() - 1 - k];
      args.push_back(e.text);
      args.push_back(e.replay.value());
    }
    auto [ec, reply] = co_await eval_script(redis_, replay_script(), keys, args);
    if (ec) co_return std::pair{ec, moved};
    if (reply.type != redis::Reply::Type::integer) co_return std::pair{unexpected(), moved};
    moved += static_cast<std::size_t>(reply.integer);
  }
  co_return std::pair{error_code{}, moved};
}

boost::asio::awaitable<std::pair<error_code, std::size_t>> DeadLetters::purge(Lane lane,
                                                                              const std::vector<DeadEntry>& entries) {
  std::size_t removed = 0;
  for (std::size_t first = 0; first < entries.size(); first += 100) {
    redis::Request request;
    for (std::size_t i = first; i < std::min(entries.size(), first + 100); ++i) {
      request.push("LREM", keys_.lane(lane).dead, "-1", entries[i].text);
    }
    auto result = co_await redis_.exec(std::move(request));
    if (result.ec) co_return std::pair{result.ec, removed};
    for (const auto& reply : result.replies) {
      if (reply.type != redis::Reply::Type::integer) co_return std::pair{unexpected(), removed};
      removed += static_cast<std::size_t>(reply.integer);
    }
  }
  co_return std::pair{error_code{}, removed};
}

}  // namespace pushgw::queue
