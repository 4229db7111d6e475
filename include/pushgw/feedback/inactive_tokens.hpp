#pragma once
// The inactive-token registry (DESIGN.md §4 "Redis keys"): tokens a provider reported dead are
// kept in pushgw:inactive:<app>:<platform> (hash token → {"reason","at"}) so they are never
// sent to again, and each is reported once on pushgw:feedback (a capped list) for backends to
// consume and delete from their own records. A backend that learns a token is valid again
// (the app re-registered it) HDELs it from the hash.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/system/error_code.hpp>

#include "pushgw/common/call_batcher.hpp"
#include "pushgw/config/config.hpp"
#include "pushgw/queue/keys.hpp"
#include "pushgw/redis/client.hpp"

namespace pushgw::feedback {

struct DeadToken {
  std::string token;
  std::string reason;                              // the provider's reason, e.g. "Unregistered"
  std::int64_t at_ms = 0;                          // when pushgw learned it
  std::optional<std::int64_t> invalid_since_ms;    // APNs 410 timestamp
};

// The JSON texts stored for one dead token: the hash value and the feedback event.
std::string inactive_value(const DeadToken& dead);
std::string feedback_event(std::string_view app, std::string_view platform, const DeadToken& dead);

class InactiveTokens {
 public:
  // `keys`: where the registry lives (queue owns the key layout).
  InactiveTokens(redis::Client& redis, queue::FeedbackKeys keys, config::FeedbackConfig config);

  using LookupResult = std::pair<boost::system::error_code, std::vector<bool>>;

  // For each token, whether it is marked inactive (an HMGET). Lookups of an app and platform
  // that arrive while one is in flight wait for it and then go together in one HMGET (up to
  // kMaxTokensPerLookup tokens, and at least one lookup): one round trip for many jobs.
  boost::asio::awaitable<LookupResult> lookup(std::string_view app, std::string_view platform,
                                              const std::vector<std::string>& tokens);
  static constexpr std::size_t kMaxTokensPerLookup = 1000;

  // Marks the tokens inactive and appends their feedback events, trimming the list to
  // feedback.max_events (one pipeline). Errors are redis::error (unexpected_reply for an error
  // reply).
  boost::asio::awaitable<boost::system::error_code> mark(std::string_view app, std::string_view platform,
                                                         const std::vector<DeadToken>& dead);

 private:
  // A lookup waiting for its key's next HMGET; the caller's frame holds the tokens.
  struct PendingLookup {
    const std::vector<std::string>* tokens;
    std::function<void(LookupResult)> done;
  };
  boost::asio::awaitable<void> lookup_call(const std::string& key, std::vector<PendingLookup> lookups);

  redis::Client& redis_;
  queue::FeedbackKeys keys_;
  config::FeedbackConfig config_;
  common::CallBatcher<PendingLookup> lookups_;  // by hash key
};

}  // namespace pushgw::feedback
