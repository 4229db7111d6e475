#pragma once
// The inactive-token registry (DESIGN.md §4 "Redis keys", §5 "Feedback"): tokens a provider
// reported dead are kept in pushgw:inactive:<app>:<platform> (hash token → {"reason","at"})
// so they are not sent to again, and each is reported once on pushgw:feedback (a capped list)
// for backends (or the webhook sender, webhook.hpp) to consume.
//
//   - A mark expires after feedback.inactive_ttl: lookups ignore it at once, and
//     expire_marks() removes it (tokens can come back).
//   - A backend that learns a token is valid again (the device registered it) reactivates it
//     (DELETE /tokens/...): the mark goes, and the time is kept, so that an APNs 410 whose
//     "invalid since" is older than the reactivation does not mark it again.
//   - Writes are batched: marking the dead tokens of a job is one script and one pipeline,
//     whatever their number.

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

  // Marks the tokens inactive (but those reactivated after their invalid_since) and appends
  // the feedback events of those marked, trimming the list to feedback.max_events: one script
  // and one pipeline. Errors are redis::error (unexpected_reply for an error reply).
  boost::asio::awaitable<boost::system::error_code> mark(std::string_view app, std::string_view platform,
                                                         const std::vector<DeadToken>& dead);

  // One token's mark, for GET /tokens/...: nullopt when it has none or it expired.
  struct Mark {
    std::string reason;
    std::int64_t at_ms = 0;
  };
  using StateResult = std::pair<boost::system::error_code, std::optional<Mark>>;
  boost::asio::awaitable<StateResult> state(std::string_view app, std::string_view platform,
                                            const std::string& token);

  // Removes the token's mark and records the reactivation at now_ms (DELETE /tokens/...).
  // The bool: whether it was marked.
  boost::asio::awaitable<std::pair<boost::system::error_code, bool>> reactivate(std::string_view app,
                                                                                std::string_view platform,
                                                                                const std::string& token,
                                                                                std::int64_t now_ms);

  // Removes the marks (and reactivation records) older than feedback.inactive_ttl at now_ms,
  // a page of the hash per round trip. The count: marks removed.
  boost::asio::awaitable<std::pair<boost::system::error_code, std::size_t>> expire_marks(std::string_view app,
                                                                                         std::string_view platform,
                                                                                         std::int64_t now_ms);

  // When a stored mark (the hash value) was made; nullopt for a value without "at" (written by
  // hand: it never expires).
  static std::optional<std::int64_t> marked_at(std::string_view value);

 private:
  // A lookup waiting for its key's next HMGET; the caller's frame holds the tokens.
  struct PendingLookup {
    const std::vector<std::string>* tokens;
    std::function<void(LookupResult)> done;
  };
  boost::asio::awaitable<void> lookup_call(const std::string& key, std::vector<PendingLookup> lookups);

  bool expired(std::string_view value, std::int64_t now_ms) const;

  redis::Client& redis_;
  queue::FeedbackKeys keys_;
  config::FeedbackConfig config_;
  common::CallBatcher<PendingLookup> lookups_;  // by hash key
};

}  // namespace pushgw::feedback
