#include "front_door.hpp"

#include <boost/asio.hpp>
#include <nlohmann/json.hpp>

#include <chrono>

#include "pushgw/api/gorush.hpp"
#include "pushgw/api/push_request.hpp"
#include "pushgw/api/token_request.hpp"
#include "pushgw/common/clock.hpp"
#include "pushgw/common/quote.hpp"
#include "pushgw/job/codec.hpp"
#include "pushgw/job/split.hpp"
#include "pushgw/log/log.hpp"

namespace pushgw::app {

namespace asio = boost::asio;
using http::Request;
using http::Response;

namespace {


// "application/json", optionally with parameters ("; charset=utf-8"), in any case.
bool is_json_content(const Request& request) {
  auto type = request.header("content-type");
  if (!type) return false;
  std::string media(type->substr(0, type->find(';')));
  while (!media.empty() && media.back() == ' ') media.pop_back();
  for (auto& c : media) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return media == "application/json";
}

Response unsupported_media_type(const Request& request) {
  auto type = request.header("content-type");
  return Response::error(415, type ? "Content-Type must be application/json, got " + common::quote(*type)
                                   : std::string("Content-Type must be application/json"));
}

// A valid W3C `traceparent` gives its trace id to the request's notifications that have none
// of their own (an invalid header is ignored, as the spec says).
void apply_traceparent(const Request& request, api::ParsedPush& push) {
  const auto header = request.header("traceparent");
  if (!header) return;
  const auto trace_id = job::trace_id_of_traceparent(*header);
  if (!trace_id) return;
  for (auto& n : push.notifications) {
    if (!n.trace_id) n.trace_id = trace_id;
  }
}

// dump_compact: an error body is valid UTF-8 whatever the input it names (dump() would throw).
Response api_error(const api::ApiError& e) { return Response::json(e.status, job::dump_compact(e.to_json())); }

}  // namespace

FrontDoor::FrontDoor(const config::Config& config, redis::Client& redis,
                     metrics::PushgwMetrics& metrics, metrics::Registry& registry,
                     queue::JobStore& store, feedback::InactiveTokens& inactive,
                     std::vector<ProviderCheck> checks, std::function<void()> before_scrape,
                     std::function<nlohmann::json()> flow_state)
    : config_(config),
      redis_(redis),
      metrics_(metrics),
      registry_(registry),
      store_(store),
      inactive_(inactive),
      checks_(std::move(checks)),
      before_scrape_(std::move(before_scrape)),
      flow_state_(std::move(flow_state)),
      validation_(job::ValidationContext::from_config(config)),
      producer_(redis, queue::Keys(config.redis.prefix)) {}

std::vector<http::Route> FrontDoor::routes() {
  auto bind = [this](auto member) {
    return [this, member](const Request& r) { return (this->*member)(r); };
  };
  return {
      {"POST", "/push", true, bind(&FrontDoor::push)},
      {"POST", "/api/push", true, bind(&FrontDoor::gorush_push)},
      {"GET", std::string(api::kTokensRoute), true, bind(&FrontDoor::token_state)},
      {"DELETE", std::string(api::kTokensRoute), true, bind(&FrontDoor::token_reactivate)},
      {"GET", "/healthz", false,
       [](const Request&) -> asio::awaitable<Response> { co_return Response::json(200, R"({"status":"ok"})"); }},
      {"GET", "/readyz", false, bind(&FrontDoor::ready)},
      {"GET", "/metrics", false, bind(&FrontDoor::metrics_text)},
  };
}

asio::awaitable<Response> FrontDoor::push(const Request& request) {
  if (!is_json_content(request)) co_return unsupported_media_type(request);
  auto parsed = api::parse_push_request(request.body, validation_);
  if (auto* error = std::get_if<api::ApiError>(&parsed)) co_return api_error(*error);
  auto& push = std::get<api::ParsedPush>(parsed);
  apply_traceparent(request, push);

  const auto now = common::system_unix_ms();
  const auto jobs = api::make_jobs(push, config_.limits.job_split_size, job::random_job_id, now);
  if (auto refusal = co_await over_depth(jobs, false)) co_return std::move(*refusal);
  if (auto stored = co_await store(jobs, now); stored.stored != queue::Stored::all) {
    co_return store_failure(stored, false);
  }
  co_return Response::json(202, job::dump_compact(api::accepted_response(push, jobs)));
}

asio::awaitable<Response> FrontDoor::gorush_push(const Request& request) {
  if (!is_json_content(request)) co_return unsupported_media_type(request);
  auto parsed = api::parse_gorush_request(request.body, validation_);
  if (auto* error = std::get_if<api::ApiError>(&parsed)) {
    co_return Response::json(error->status, job::dump_compact(api::gorush_error_response(*error)));
  }
  auto& push = std::get<api::ParsedPush>(parsed);
  apply_traceparent(request, push);

  const auto now = common::system_unix_ms();
  const auto jobs = api::make_jobs(push, config_.limits.job_split_size, job::random_job_id, now);
  if (auto refusal = co_await over_depth(jobs, true)) co_return std::move(*refusal);
  if (auto stored = co_await store(jobs, now); stored.stored != queue::Stored::all) {
    co_return store_failure(stored, true);
  }
  co_return Response::json(api::kGorushSuccessStatus, job::dump_compact(api::gorush_success_response(push)));
}

asio::awaitable<Response> FrontDoor::token_state(const Request& request) {
  auto parsed = api::parse_token_request(request.target, validation_);
  if (auto* error = std::get_if<api::ApiError>(&parsed)) co_return api_error(*error);
  const auto& wanted = std::get<api::TokenRequest>(parsed);
  auto [ec, mark] = co_await inactive_.state(wanted.app, job::to_string(wanted.platform), wanted.token);
  if (ec) co_return Response::error(503, "cannot read the token's state from Redis: " + ec.message());
  if (!mark) co_return Response::json(200, R"({"active":true})");
  co_return Response::json(200, job::dump_compact({{"active", false}, {"reason", mark->reason}, {"at", mark->at_ms}}));
}

asio::awaitable<Response> FrontDoor::token_reactivate(const Request& request) {
  auto parsed = api::parse_token_request(request.target, validation_);
  if (auto* error = std::get_if<api::ApiError>(&parsed)) co_return api_error(*error);
  const auto& wanted = std::get<api::TokenRequest>(parsed);
  auto [ec, was_marked] = co_await inactive_.reactivate(wanted.app, job::to_string(wanted.platform), wanted.token,
                                                        common::system_unix_ms());
  if (ec) co_return Response::error(503, "the token was not reactivated: " + ec.message());
  if (was_marked) {
    log::get("api")->info("app {} {}: token {} reactivated", wanted.app, job::to_string(wanted.platform),
                          log::token(wanted.token));
  }
  Response response;
  response.status = 204;
  response.content_type.clear();
  co_return response;
}

// 503: nothing was stored, a retry cannot duplicate. 504: Redis got the request but did not
// answer in time; the jobs may be stored (and will then be delivered). A retry is safe when
// each notification carries an `id`: the copy that is sent second finds the first's claim and
// is skipped (README, "When a request fails").
http::Response FrontDoor::store_failure(const queue::Enqueued& failure, bool gorush) {
  const bool unknown = failure.stored == queue::Stored::unknown;
  const int status = unknown ? 504 : 503;
  const std::string message =
      unknown ? "outcome unknown: the notifications may have been stored (" + failure.problem +
                    "); retrying is safe for notifications with an \"id\""
              : "notifications not stored: " + failure.problem;
  nlohmann::json body = gorush ? api::gorush_error_response(api::ApiError{status, message, ""})
                               : nlohmann::json{{"error", message}};
  body["stored"] = unknown ? nlohmann::json("unknown") : nlohmann::json(false);
  Response response = Response::json(status, job::dump_compact(body));
  response.headers.emplace_back("Retry-After", "1");
  return response;
}

asio::awaitable<std::optional<Response>> FrontDoor::over_depth(const std::vector<job::Notification>& jobs,
                                                               bool gorush) {
  const std::size_t limit = config_.limits.max_queue_depth;
  if (limit == 0) co_return std::nullopt;
  if (!depth_reading_ && std::chrono::steady_clock::now() - depth_read_at_ > kDepthMaxAge) {
    depth_reading_ = true;
    auto [ec, depths] = co_await store_.depths();
    depth_reading_ = false;
    if (!ec) {  // else storing will fail too, and say so
      for (const queue::Lane lane : queue::Lane::all()) lane_depth_[lane.index()] = depths[lane.index()].queue;
      depth_read_at_ = std::chrono::steady_clock::now();
    }
  }
  for (const auto& j : jobs) {
    const auto lane = queue::Lane::parse(job::lane_of(j));
    if (!std::holds_alternative<queue::Lane>(lane)) continue;  // validation checked it
    const auto index = std::get<queue::Lane>(lane).index();
    if (lane_depth_[index] <= static_cast<std::int64_t>(limit)) continue;
    const std::string message = "lane " + std::string(job::lane_of(j)) + " holds " +
                                std::to_string(lane_depth_[index]) + " jobs, over limits.max_queue_depth (" +
                                std::to_string(limit) + "): nothing stored, retry later";
    nlohmann::json body = gorush ? api::gorush_error_response(api::ApiError{429, message, ""})
                                 : nlohmann::json{{"error", message}};
    body["stored"] = false;
    Response response = Response::json(429, job::dump_compact(body));
    response.headers.emplace_back("Retry-After", "1");
    metrics_.jobs.with({"refused"}).inc(static_cast<double>(jobs.size()));
    co_return response;
  }
  co_return std::nullopt;
}

asio::awaitable<queue::Enqueued> FrontDoor::store(const std::vector<job::Notification>& jobs, std::int64_t now_ms) {
  const auto new_jobs = queue::new_jobs(jobs, now_ms);
  auto stored = co_await producer_.enqueue(new_jobs);
  if (stored.stored == queue::Stored::all) {
    metrics_.jobs.with({"enqueued"}).inc(static_cast<double>(jobs.size()));
    for (const auto& j : jobs) {
      if (j.trace_id && j.job) {
        log::get("api")->info("trace {}: job {} stored ({} token(s), lane {})", *j.trace_id, j.job->id, j.tokens.size(),
                              job::lane_of(j));
      }
    }
  }
  co_return stored;
}

asio::awaitable<Response> FrontDoor::ready(const Request&) {
  redis::Request ping;
  ping.push("PING");
  const auto result = co_await redis_.exec(std::move(ping));
  std::string redis_state = "ok";
  if (result.ec) {
    // Not connected: why the last attempt failed says more (a refused password, TLS).
    const std::string why = result.ec == redis::error::not_connected ? redis_.last_error_text() : std::string();
    redis_state = "unreachable: " + (why.empty() ? result.ec.message() : why);
  } else if (const auto& reply = result.replies.at(0); reply.is_error()) {
    redis_state = "error: " + reply.str;
  } else if (!redis_.connected()) {
    // Redis Cluster: the PING went to one master; another may be unreachable, or a slot
    // without a master, and the lanes there cannot be served.
    const std::string why = redis_.last_error_text();
    redis_state = "unreachable: " + (why.empty() ? std::string("not connected") : why);
  }
  bool ready = redis_state == "ok";
  nlohmann::json checks = {{"redis", redis_state}};
  for (const auto& check : checks_) {
    const std::string problem = check.problem();
    checks[check.name] = problem.empty() ? std::string("ok") : problem;
    ready = ready && problem.empty();
  }
  nlohmann::json body = {{"status", ready ? "ready" : "not ready"}, {"checks", std::move(checks)},
                         {"redis", {{"mode", redis_mode()}, {"server", redis_.server()}}}};
  // Flow control is shown, not judged: an open breaker is the provider's trouble, and taking
  // the instance out of rotation would only stop intake.
  if (flow_state_) body["flow"] = flow_state_();
  co_return Response::json(ready ? 200 : 503, body.dump());
}

std::string FrontDoor::redis_mode() const {
  if (!config_.redis.cluster.nodes.empty()) return "cluster";
  return config_.redis.sentinel.nodes.empty() ? "single" : "sentinel";
}

asio::awaitable<void> FrontDoor::refresh_queue_gauges() {
  // Which Redis server, before the depths: after a failover the old one's series goes to 0.
  const std::string server = redis_.server();
  if (server != redis_server_shown_) {
    if (!redis_server_shown_.empty()) metrics_.redis_server.with({redis_mode(), redis_server_shown_}).set(0);
    metrics_.redis_server.with({redis_mode(), server}).set(1);
    redis_server_shown_ = server;
  }
  if (!redis_.connected()) co_return;
  auto [ec, depths] = co_await store_.depths();
  if (ec) co_return;
  for (const queue::Lane lane : queue::Lane::all()) {
    const std::string name(lane.name());
    const auto& depth = depths[lane.index()];
    metrics_.queue_depth.with({name}).set(static_cast<double>(depth.queue));
    metrics_.processing_depth.with({name}).set(static_cast<double>(depth.processing));
    metrics_.retry_depth.with({name}).set(static_cast<double>(depth.retry));
  }
}

asio::awaitable<Response> FrontDoor::metrics_text(const Request&) {
  co_await refresh_queue_gauges();
  if (before_scrape_) before_scrape_();
  Response response = Response::json(200, registry_.render());
  response.content_type = "text/plain; version=0.0.4; charset=utf-8";
  co_return response;
}

}  // namespace pushgw::app
