#include "pushgw/feedback/mark_expiry.hpp"

#include <boost/asio.hpp>

#include <algorithm>

#include "pushgw/common/async.hpp"
#include "pushgw/log/log.hpp"

namespace pushgw::feedback {

namespace asio = boost::asio;
using std::chrono::milliseconds;

milliseconds MarkExpiry::interval(milliseconds ttl) {
  return std::clamp(ttl / 10, milliseconds(1000), milliseconds(3600 * 1000));
}

struct MarkExpiry::Impl {
  Impl(asio::any_io_executor executor, InactiveTokens& tokens, std::vector<std::pair<std::string, std::string>> hashes,
       milliseconds ttl, metrics::PushgwMetrics& metrics)
      : executor(executor), tokens(tokens), hashes(std::move(hashes)), ttl(ttl), metrics(metrics), wake(executor),
        done(executor), logger(log::get("feedback")) {}

  asio::awaitable<void> run() {
    bool failing = false;
    while (!stopping) {
      wake.expires_after(interval(ttl));
      co_await wake.async_wait(asio::as_tuple(asio::use_awaitable));
      if (stopping) break;
      const auto now = std::chrono::duration_cast<milliseconds>(std::chrono::system_clock::now().time_since_epoch());
      for (const auto& [app, platform] : hashes) {
        auto [ec, removed] = co_await tokens.expire_marks(app, platform, now.count());
        if (removed > 0) {
          metrics.inactive_marks_expired.with({platform}).inc(static_cast<double>(removed));
          logger->info("app {} {}: {} inactive-token mark(s) older than feedback.inactive_ttl removed", app, platform,
                       removed);
        }
        if (ec && !failing) logger->warn("expiring inactive-token marks: {}; trying again later", ec.message());
        failing = static_cast<bool>(ec);
      }
    }
  }

  asio::any_io_executor executor;
  InactiveTokens& tokens;
  const std::vector<std::pair<std::string, std::string>> hashes;
  const milliseconds ttl;
  metrics::PushgwMetrics& metrics;
  asio::steady_timer wake;
  common::WaitGroup done;
  bool stopping = false;
  bool started = false;
  std::shared_ptr<spdlog::logger> logger;
};

MarkExpiry::MarkExpiry(asio::any_io_executor executor, InactiveTokens& tokens,
                       std::vector<std::pair<std::string, std::string>> hashes, milliseconds ttl,
                       metrics::PushgwMetrics& metrics)
    : impl_(std::make_shared<Impl>(std::move(executor), tokens, std::move(hashes), ttl, metrics)) {}

MarkExpiry::~MarkExpiry() = default;

void MarkExpiry::start() {
  if (impl_->started) return;
  impl_->started = true;
  impl_->done.add();
  asio::co_spawn(impl_->executor, impl_->run(), [impl = impl_](std::exception_ptr e) {
    if (e) impl->logger->error("expiring inactive-token marks stopped unexpectedly");
    impl->done.done();
  });
}

asio::awaitable<void> MarkExpiry::stop() {
  auto impl = impl_;
  impl->stopping = true;
  impl->wake.cancel();
  if (impl->started) co_await impl->done.wait(std::chrono::steady_clock::time_point::max());
}

}  // namespace pushgw::feedback
