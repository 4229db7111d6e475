#include "pushgw/feedback/inactive_tokens.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>

#include <boost/asio.hpp>
#include <nlohmann/json.hpp>

#include "pushgw/common/async.hpp"
#include "pushgw/common/clock.hpp"
#include "pushgw/job/codec.hpp"
#include "pushgw/queue/scripts.hpp"

namespace pushgw::feedback {

namespace asio = boost::asio;
using boost::system::error_code;

namespace {


error_code unexpected() { return redis::make_error_code(redis::error::unexpected_reply); }

}  // namespace

std::string inactive_value(const DeadToken& dead) {
  nlohmann::json value = {{"reason", dead.reason}, {"at", dead.at_ms}};
  if (dead.invalid_since_ms) value["invalid_since"] = *dead.invalid_since_ms;
  return job::dump_compact(value);
}

std::string feedback_event(std::string_view app, std::string_view platform, const DeadToken& dead) {
  nlohmann::json event = {{"app", app}, {"platform", platform}, {"token", dead.token},
                          {"reason", dead.reason}, {"at", dead.at_ms}};
  if (dead.invalid_since_ms) event["invalid_since"] = *dead.invalid_since_ms;
  return job::dump_compact(event);
}

InactiveTokens::InactiveTokens(redis::Client& redis, queue::FeedbackKeys keys, config::FeedbackConfig config)
    : redis_(redis),
      keys_(std::move(keys)),
      config_(config),
      lookups_([this](const std::string& key, std::vector<PendingLookup> lookups) {
                 return lookup_call(key, std::move(lookups));
               },
               kMaxTokensPerLookup, [](const PendingLookup& lookup) { return lookup.tokens->size(); }) {}

asio::awaitable<InactiveTokens::LookupResult> InactiveTokens::lookup(std::string_view app, std::string_view platform,
                                                                     const std::vector<std::string>& tokens) {
  if (tokens.empty()) co_return LookupResult{error_code{}, {}};
  const auto executor = co_await asio::this_coro::executor;
  const std::string key = keys_.inactive(app, platform);
  auto queue_lookup = [&](std::function<void(LookupResult)> done) {
    lookups_.add(executor, key, PendingLookup{&tokens, std::move(done)});
  };
  co_return co_await common::await_callback<LookupResult>(queue_lookup);
}

// One HMGET with every waiting lookup's tokens, in order; each gets its own slice back.
asio::awaitable<void> InactiveTokens::lookup_call(const std::string& key, std::vector<PendingLookup> lookups) {
  error_code ec;
  std::vector<bool> flags;
  try {
    std::vector<std::string_view> argv{"HMGET", key};
    for (const auto& lookup : lookups) argv.insert(argv.end(), lookup.tokens->begin(), lookup.tokens->end());
    redis::Request request;
    request.push_argv(argv);
    auto result = co_await redis_.exec(std::move(request));
    ec = result.ec;
    if (!ec) {
      const auto& reply = result.replies.at(0);
      if (reply.type != redis::Reply::Type::array || reply.elements.size() != argv.size() - 2) {
        ec = unexpected();
      } else {
        const std::int64_t now = common::system_unix_ms();
        flags.reserve(reply.elements.size());
        for (const auto& element : reply.elements) flags.push_back(!element.is_nil() && !expired(element.str, now));
      }
    }
  } catch (const std::exception&) {
    ec = unexpected();  // out of memory: each caller retries its job
  }
  std::size_t at = 0;
  for (auto& lookup : lookups) {
    const std::size_t n = lookup.tokens->size();
    std::vector<bool> mine(n, false);
    if (!ec) std::copy_n(flags.begin() + static_cast<std::ptrdiff_t>(at), n, mine.begin());
    at += n;
    // Each caller resumes later (await_callback wakes it, does not run it here).
    lookup.done(LookupResult{ec, std::move(mine)});
  }
}

std::optional<std::int64_t> InactiveTokens::marked_at(std::string_view value) {
  // pushgw writes compact JSON; a mark written by hand may have spaces around the ':'.
  constexpr std::string_view kAt = "\"at\"";
  const auto at = value.find(kAt);
  if (at == std::string_view::npos) return std::nullopt;
  std::size_t i = at + kAt.size();
  while (i < value.size() && (value[i] == ' ' || value[i] == ':')) ++i;
  std::int64_t ms = 0;
  const char* first = value.data() + i;
  const auto [end, ec] = std::from_chars(first, value.data() + value.size(), ms);
  if (ec != std::errc() || end == first) return std::nullopt;
  return ms;
}

bool InactiveTokens::expired(std::string_view value, std::int64_t now_ms) const {
  const auto at = marked_at(value);
  return at && *at < now_ms - config_.inactive_ttl.count();
}

asio::awaitable<error_code> InactiveTokens::mark(std::string_view app, std::string_view platform,
                                                 const std::vector<DeadToken>& dead) {
  if (dead.empty()) co_return error_code{};
  std::vector<std::string> args;
  args.reserve(dead.size() * 3);
  for (const auto& d : dead) {
    args.push_back(d.token);
    args.push_back(inactive_value(d));
    args.push_back(d.invalid_since_ms ? std::to_string(*d.invalid_since_ms) : std::string());
  }
  const std::vector<std::string> keys{keys_.inactive(app, platform), keys_.reactivated(app, platform)};
  auto [ec, marked] = co_await queue::eval_script(redis_, queue::mark_script(), keys, args);
  if (ec) co_return ec;
  if (marked.type != redis::Reply::Type::array) co_return unexpected();
  if (marked.elements.empty()) co_return error_code{};

  // The events of the tokens marked, in a second step: the events list lives in another slot.
  const std::string& list = keys_.events();
  std::vector<std::string> events;
  std::vector<std::string_view> lpush{"LPUSH", list};
  events.reserve(marked.elements.size());
  for (const auto& position : marked.elements) {
    const auto i = static_cast<std::size_t>(position.integer - 1);
    if (position.type != redis::Reply::Type::integer || i >= dead.size()) co_return unexpected();
    events.push_back(feedback_event(app, platform, dead[i]));
  }
  lpush.insert(lpush.end(), events.begin(), events.end());
  redis::Request request;
  request.push_argv(lpush);
  request.push("LTRIM", list, "0", std::to_string(config_.max_events - 1));
  auto result = co_await redis_.exec(std::move(request));
  if (result.ec) co_return result.ec;
  for (const auto& reply : result.replies) {
    if (reply.is_error()) co_return unexpected();
  }
  co_return error_code{};
}

asio::awaitable<InactiveTokens::StateResult> InactiveTokens::state(std::string_view app, std::string_view platform,
                                                                  const std::string& token) {
  redis::Request request;
  request.push("HGET", keys_.inactive(app, platform), token);
  auto result = co_await redis_.exec(std::move(request));
  if (result.ec) co_return StateResult{result.ec, std::nullopt};
  const auto& reply = result.replies.at(0);
  if (reply.is_nil() || expired(reply.str, common::system_unix_ms())) co_return StateResult{};
  if (reply.type != redis::Reply::Type::string) co_return StateResult{unexpected(), std::nullopt};
  Mark mark;
  mark.at_ms = marked_at(reply.str).value_or(0);
  const auto value = nlohmann::json::parse(reply.str, nullptr, /*allow_exceptions=*/false);
  if (value.is_object() && value.contains("reason") && value["reason"].is_string()) {
    mark.reason = value["reason"].get<std::string>();
  }
  co_return StateResult{error_code{}, std::move(mark)};
}

asio::awaitable<std::pair<error_code, bool>> InactiveTokens::reactivate(std::string_view app, std::string_view platform,
                                                                        const std::string& token, std::int64_t now_ms) {
  const std::vector<std::string> keys{keys_.inactive(app, platform), keys_.reactivated(app, platform)};
  const std::vector<std::string> args{token, std::to_string(now_ms)};  // named: GCC 12 and co_await temporaries
  auto [ec, reply] = co_await queue::eval_script(redis_, queue::reactivate_script(), keys, args);
  if (ec) co_return std::pair{ec, false};
  if (reply.type != redis::Reply::Type::integer) co_return std::pair{unexpected(), false};
  co_return std::pair{error_code{}, reply.integer == 1};
}

asio::awaitable<std::pair<error_code, std::size_t>> InactiveTokens::expire_marks(std::string_view app,
                                                                                 std::string_view platform,
                                                                                 std::int64_t now_ms) {
  const std::string cutoff = std::to_string(now_ms - config_.inactive_ttl.count());
  std::size_t marks_removed = 0;
  // The marks' JSON has "at":<ms>; a reactivation record is the bare number.
  for (const bool marks : {true, false}) {
    const std::vector<std::string> keys{marks ? keys_.inactive(app, platform) : keys_.reactivated(app, platform)};
    std::vector<std::string> args{"0", cutoff, "500", marks ? "\"at\"%s*:%s*(%d+)" : "^(%d+)$"};
    do {
      auto [ec, page] = co_await queue::eval_script(redis_, queue::expire_script(), keys, args);
      if (ec) co_return std::pair{ec, marks_removed};
      if (page.type != redis::Reply::Type::array || page.elements.size() != 2) co_return std::pair{unexpected(), marks_removed};
      args[0] = page.elements[0].str;  // the next cursor
      if (marks) marks_removed += static_cast<std::size_t>(page.elements[1].integer);
    } while (args[0] != "0");
  }
  co_return std::pair{error_code{}, marks_removed};
}

}  // namespace pushgw::feedback
