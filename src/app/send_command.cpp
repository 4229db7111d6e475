// `pushgw send`: one notification to one token, straight to the provider (no Redis), with the
// outcome printed — the way a user checks their credentials and endpoint.

#include <boost/asio.hpp>
#include <nlohmann/json.hpp>

#include <iostream>

#include "pushgw/api/push_request.hpp"
#include "provider_factory.hpp"
#include "pushgw/app/app.hpp"
#include "pushgw/job/codec.hpp"
#include "pushgw/log/log.hpp"

namespace pushgw::app {

namespace asio = boost::asio;

namespace {

// The notification as /push would accept it, or the reason it would not.
std::variant<job::Notification, std::string> build_notification(const config::Config& cfg,
                                                                const SendOptions& options) {
  nlohmann::json j = {{"platform", options.platform}, {"tokens", {options.token}}};
  if (!options.app.empty()) j["app"] = options.app;
  if (!options.title.empty()) j["title"] = options.title;
  if (!options.message.empty()) j["message"] = options.message;
  if (!options.sound.empty()) j["sound"] = options.sound;
  if (options.badge) j["badge"] = *options.badge;
  if (!options.topic.empty()) j["topic"] = options.topic;
  if (!options.push_type.empty()) j["push_type"] = options.push_type;
  if (!options.data.empty()) {
    auto data = job::parse_json(options.data);
    if (auto* e = std::get_if<job::FieldError>(&data)) return "--data: " + e->message;
    j["data"] = std::get<nlohmann::json>(data);
  }
  auto decoded = job::decode_notification(j, "");
  if (auto* e = std::get_if<job::FieldError>(&decoded)) return "--" + e->path + ": " + e->message;
  auto n = std::get<job::Notification>(std::move(decoded));
  if (auto e = api::check_notification(n, job::ValidationContext::from_config(cfg), "")) {
    return (e->path.empty() ? std::string() : e->path + ": ") + e->error;
  }
  return n;
}

void print_outcome(const job::SendOutcome& outcome, job::Platform platform) {
  std::cout << job::to_string(outcome.kind);
  if (outcome.status) std::cout << " (HTTP " << outcome.status << ")";
  if (!outcome.reason.empty()) std::cout << ": " << outcome.reason;
  if (!outcome.provider_id.empty()) {
    std::cout << (platform == job::Platform::ios ? " [apns-id " : " [message ") << outcome.provider_id << "]";
  }
  if (outcome.retry_after) std::cout << " retry after " << outcome.retry_after->count() << " s";
  std::cout << "\n";
}

}  // namespace

int send_one(const config::Config& cfg, const SendOptions& options) {
  log::setup_logging(cfg.logging);
  auto built = build_notification(cfg, options);
  if (auto* problem = std::get_if<std::string>(&built)) {
    std::cerr << "pushgw send: " << *problem << "\n";
    return 2;
  }
  const auto& n = std::get<job::Notification>(built);

  // Starts the app's provider for the platform, sends on a private event loop, and stops it.
  asio::io_context io(1);
  job::SendOutcome outcome;
  try {
    auto provider = make_provider(cfg, n.app, n.platform, io.get_executor());  // validation checked it exists
    std::string error;
    if (!provider->start(&error)) {
      std::cerr << "pushgw send: " << error << "\n";
      return 1;
    }
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
          outcome = co_await provider->async_send({}, provider->prepare(n), options.token, asio::use_awaitable);
          co_await provider->stop(std::chrono::seconds(2));
        },
        [&](std::exception_ptr) { io.stop(); });
    io.run();
  } catch (const std::exception& e) {
    std::cerr << "pushgw send: " << e.what() << "\n";
    return 1;
  }

  std::cout << "app " << n.app << ", token " << log::token(options.token) << ": ";
  print_outcome(outcome, n.platform);
  return outcome.kind == job::OutcomeKind::delivered ? 0 : 1;
}

}  // namespace pushgw::app
