#include "pushgw/feedback/inactive_tokens.hpp"

#include <algorithm>

#include <boost/asio.hpp>
#include <nlohmann/json.hpp>

#include "pushgw/common/async.hpp"
#include "pushgw/job/codec.hpp"

namespace pushgw::feedback {

namespace asio = boost::asio;
using boost::system::error_code;

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
        ec = redis::make_error_code(redis::error::unexpected_reply);
      } else {
        flags.reserve(reply.elements.size());
        for (const auto& element : reply.elements) flags.push_back(!element.is_nil());
      }
    }
  } catch (const std::exception&) {
    ec = redis::make_error_code(redis::error::unexpected_reply);  // out of memory: each caller retries its job
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

asio::awaitable<error_code> InactiveTokens::mark(std::string_view app, std::string_view platform,
                                                 const std::vector<DeadToken>& dead) {
  if (dead.empty()) co_return error_code{};
  const std::string hash = keys_.inactive(app, platform);
  const std::string& list = keys_.events();
  std::vector<std::string> values;
  std::vector<std::string> events;
  for (const auto& d : dead) {
    values.push_back(inactive_value(d));
    events.push_back(feedback_event(app, platform, d));
  }
  std::vector<std::string_view> hset{"HSET", hash};
  std::vector<std::string_view> lpush{"LPUSH", list};
  for (std::size_t i = 0; i < dead.size(); ++i) {
    hset.push_back(dead[i].token);
    hset.push_back(values[i]);
    lpush.push_back(events[i]);
  }
  // A pipeline, not MULTI: the hash and the list may live on different Cluster nodes, and
  // marking twice (after a retry) is harmless.
  redis::Request request;
  request.push_argv(hset);
  request.push_argv(lpush);
  request.push("LTRIM", list, "0", std::to_string(config_.max_events - 1));
  auto result = co_await redis_.exec(std::move(request));
  if (result.ec) co_return result.ec;
  for (const auto& reply : result.replies) {
    if (reply.is_error()) co_return redis::make_error_code(redis::error::unexpected_reply);
  }
  co_return error_code{};
}

}  // namespace pushgw::feedback
