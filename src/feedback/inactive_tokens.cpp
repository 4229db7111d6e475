#include "pushgw/feedback/inactive_tokens.hpp"

#include <boost/asio.hpp>
#include <nlohmann/json.hpp>

#include "pushgw/job/codec.hpp"
#include "pushgw/queue/job_store.hpp"

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

InactiveTokens::InactiveTokens(redis::Client& redis, queue::Keys keys, config::FeedbackConfig config)
    : redis_(redis), keys_(std::move(keys)), config_(config) {}

asio::awaitable<std::pair<error_code, std::vector<bool>>> InactiveTokens::lookup(
    std::string_view app, std::string_view platform, const std::vector<std::string>& tokens) {
  std::vector<bool> inactive(tokens.size(), false);
  if (tokens.empty()) co_return std::pair{error_code{}, inactive};
  const std::string key = keys_.inactive(app, platform);
  std::vector<std::string_view> argv{"HMGET", key};
  argv.insert(argv.end(), tokens.begin(), tokens.end());
  redis::Request request;
  request.push_argv(argv);
  auto result = co_await redis_.exec(std::move(request));
  if (result.ec) co_return std::pair{result.ec, inactive};
  const auto& reply = result.replies.at(0);
  if (reply.type != redis::Reply::Type::array || reply.elements.size() != tokens.size()) {
    co_return std::pair{make_error_code(queue::error::unexpected_reply), inactive};
  }
  for (std::size_t i = 0; i < tokens.size(); ++i) inactive[i] = !reply.elements[i].is_nil();
  co_return std::pair{error_code{}, inactive};
}

asio::awaitable<error_code> InactiveTokens::mark(std::string_view app, std::string_view platform,
                                                 const std::vector<DeadToken>& dead) {
  if (dead.empty()) co_return error_code{};
  const std::string hash = keys_.inactive(app, platform);
  const std::string list = keys_.feedback();
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
    if (reply.is_error()) co_return make_error_code(queue::error::unexpected_reply);
  }
  co_return error_code{};
}

}  // namespace pushgw::feedback
