#pragma once
// The inactive-token registry (DESIGN.md §4 "Redis keys"): tokens a provider reported dead are
// kept in pushgw:inactive:<app>:<platform> (hash token → {"reason","at"}) so they are never
// sent to again, and each is reported once on pushgw:feedback (a capped list) for backends to
// consume and delete from their own records. A backend that learns a token is valid again
// (the app re-registered it) HDELs it from the hash.

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/system/error_code.hpp>

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
  InactiveTokens(redis::Client& redis, queue::Keys keys, config::FeedbackConfig config);

  // For each token, whether it is marked inactive (one HMGET).
  boost::asio::awaitable<std::pair<boost::system::error_code, std::vector<bool>>> lookup(
      std::string_view app, std::string_view platform, const std::vector<std::string>& tokens);

  // Marks the tokens inactive and appends their feedback events, trimming the list to
  // feedback.max_events (one pipeline).
  boost::asio::awaitable<boost::system::error_code> mark(std::string_view app, std::string_view platform,
                                                         const std::vector<DeadToken>& dead);

 private:
  redis::Client& redis_;
  queue::Keys keys_;
  config::FeedbackConfig config_;
};

}  // namespace pushgw::feedback
