#pragma once
// Removes inactive-token marks older than feedback.inactive_ttl (Redis 7.0 hashes have no
// per-field expiry): every app's and platform's hash is swept a page at a time, every
// ttl/10 (between 1 s and 1 h). Lookups already ignore an expired mark, so the sweep only
// frees memory and counts pushgw_inactive_marks_expired_total. Every instance sweeps: a mark is
// deleted once, and counted by the instance that deleted it.
//
// Threading: one executor; start() and stop() from it.

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "pushgw/feedback/inactive_tokens.hpp"
#include "pushgw/metrics/pushgw_metrics.hpp"

namespace pushgw::feedback {

class MarkExpiry {
 public:
  // `hashes`: the (app, platform) pairs that have providers.
  MarkExpiry(boost::asio::any_io_executor executor, InactiveTokens& tokens,
             std::vector<std::pair<std::string, std::string>> hashes, std::chrono::milliseconds ttl,
             metrics::PushgwMetrics& metrics);
  ~MarkExpiry();
  MarkExpiry(const MarkExpiry&) = delete;
  MarkExpiry& operator=(const MarkExpiry&) = delete;

  void start();
  boost::asio::awaitable<void> stop();

  // How often the sweep runs for `ttl`.
  static std::chrono::milliseconds interval(std::chrono::milliseconds ttl);

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace pushgw::feedback
