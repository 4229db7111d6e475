#include "pushgw/web/provider.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include "pushgw/job/codec.hpp"

#include "pushgw/queue/scripts.hpp"

namespace pushgw::web {

namespace asio = boost::asio;

namespace {

// Sends in flight to Redis: each is one script call, pipelined on the provider's connection.
constexpr std::size_t kMaxInflight = 1000;

struct PreparedMessage final : provider::Prepared {
  std::string json;
};

}  // namespace

Provider::Provider(asio::any_io_executor executor, std::string app, const config::WebConfig& web,
                   redis::ClientConfig redis, const std::string& prefix)
    : provider::Provider(executor, job::Platform::web, "web", std::move(app)),
      publish_command_(redis.cluster_nodes.empty() ? "PUBLISH" : "SPUBLISH"),
      redis_(executor, std::move(redis)),
      permits_(executor, kMaxInflight),
      keys_(prefix),
      history_(std::to_string(web.history)),
      ttl_ms_(std::to_string(web.history_ttl.count())) {}

Provider::~Provider() { redis_.stop(); }

bool Provider::start(std::string*) {
  redis_.start();
  return true;
}

asio::awaitable<void> Provider::stop(std::chrono::milliseconds) {
  redis_.stop();
  co_return;
}

std::shared_ptr<const provider::Prepared> Provider::prepare(const job::Notification& n) const {
  auto prepared = std::make_shared<PreparedMessage>();
  prepared->json = job::web_notification_json(n);
  return prepared;
}

provider::Health Provider::health() const {
  provider::Health h;
  h.credentials = "Redis (channel histories and pub/sub)";
  if (!redis_.connected()) {
    h.ok = false;
    h.error = "cannot reach Redis to publish web messages";
  }
  return h;
}

void Provider::send(common::Permit permit, std::shared_ptr<const provider::Prepared> prepared, const std::string& token,
                    provider::SendHandler done) {
  asio::co_spawn(executor(), publish(std::move(permit), std::move(prepared), token, std::move(done)), asio::detached);
}

asio::awaitable<void> Provider::publish(common::Permit permit, std::shared_ptr<const provider::Prepared> prepared,
                                        std::string channel, provider::SendHandler done) {
  job::SendOutcome outcome;
  try {
    if (!permit) {
      co_await permits_.acquire(1);
      permit = permits_.adopt();
    }
    const auto& message = static_cast<const PreparedMessage&>(*prepared);
    const std::vector<std::string> keys{keys_.web_channel(channel)};
    const std::vector<std::string> args{message.json, history_, ttl_ms_, publish_command_};
    auto [ec, reply] = co_await queue::eval_script(redis_, queue::publish_script(), keys, args);
    if (ec) {
      outcome.kind = job::OutcomeKind::retry;
      outcome.reason = "redis: " + ec.message() + (reply.is_error() ? ": " + reply.str : "");
      // Sent but unanswered: the script may have run (a client that resumes sees it once).
      outcome.unanswered = ec == redis::error::connection_lost || ec == redis::error::timeout;
    } else {
      outcome.provider_id = reply.str;
    }
  } catch (const std::exception&) {
    outcome = job::internal_error_outcome();
  }
  permit.reset();
  done(std::move(outcome));
}

}  // namespace pushgw::web
