#include "pushgw/dispatch/plan.hpp"

#include <map>

#include "pushgw/queue/backoff.hpp"

namespace pushgw::dispatch {

using job::OutcomeKind;

std::string describe(const job::SendOutcome& outcome) {
  std::string text;
  if (outcome.status != 0) text = "HTTP " + std::to_string(outcome.status);
  if (!outcome.reason.empty()) text += (text.empty() ? "" : " ") + outcome.reason;
  return text.empty() ? std::string(job::to_string(outcome.kind)) : text;
}

namespace {

job::Notification with_tokens(const job::Notification& n, std::vector<std::string> tokens) {
  job::Notification copy = n;
  copy.tokens = std::move(tokens);
  return copy;
}

bool expires_before(const job::Notification& n, std::int64_t due_ms) {
  return n.expiration && *n.expiration * 1000 < due_ms;
}

// The tokens of `next` wait until `due` without an attempt counted, unless n expires first.
void wait_for(Plan& plan, const job::Notification& n, job::Notification next, std::int64_t due,
              std::string expired_error) {
  if (expires_before(n, due)) {
    plan.dead.push_back({std::move(next), queue::DeadReason::expired, std::move(expired_error)});
  } else {
    plan.retries.push_back({std::move(next), due});
  }
}

}  // namespace

Plan plan_parked(const job::Notification& n, std::vector<std::string> tokens, std::int64_t due_ms,
                 const std::string& why) {
  Plan plan;
  wait_for(plan, n, with_tokens(n, std::move(tokens)), due_ms, "its expiration passes before it can be sent (" + why + ")");
  return plan;
}

Plan plan_after_sends(const job::Notification& n, const std::vector<TokenResult>& results,
                      const config::RetriesConfig& retries, std::int64_t now_ms, double jitter) {
  Plan plan;
  const int attempt = n.job ? n.job->attempt : 0;  // sends made before this one
  std::map<std::string, std::vector<std::string>> rejected;  // reason → tokens
  std::vector<std::string> transient;
  std::vector<std::string> credentials;
  std::optional<std::chrono::seconds> retry_after;
  std::string last_transient;
  std::string last_credentials;

  // A topic, condition or broadcast channel never dies: a provider answer that would mark a
  // device token dead is a refusal of this notification there.
  const bool device_tokens = job::has_device_tokens(n);
  for (const auto& r : results) {
    const OutcomeKind kind =
        r.outcome.kind == OutcomeKind::token_dead && !device_tokens ? OutcomeKind::rejected : r.outcome.kind;
    switch (kind) {
      case OutcomeKind::delivered:
        ++plan.delivered;
        break;
      case OutcomeKind::token_dead:
        plan.dead_tokens.push_back({r.token, r.outcome.reason.empty() ? describe(r.outcome) : r.outcome.reason, now_ms,
                                    r.outcome.token_invalid_since_ms});
        break;
      case OutcomeKind::rejected:
        rejected[describe(r.outcome)].push_back(r.token);
        break;
      case OutcomeKind::retry:
        transient.push_back(r.token);
        last_transient = describe(r.outcome);
        if (r.outcome.retry_after && (!retry_after || *r.outcome.retry_after > *retry_after)) {
          retry_after = r.outcome.retry_after;
        }
        break;
      case OutcomeKind::credentials_error:
        credentials.push_back(r.token);
        last_credentials = describe(r.outcome);
        break;
    }
  }

  for (auto& [reason, tokens] : rejected) {
    plan.dead.push_back({with_tokens(n, std::move(tokens)), queue::DeadReason::rejected, "provider rejected it: " + reason});
  }

  if (!transient.empty()) {
    const int sends = attempt + 1;
    if (static_cast<std::size_t>(sends) >= retries.max_attempts) {
      plan.dead.push_back({with_tokens(n, std::move(transient)), queue::DeadReason::retries_exhausted,
                           "gave up after " + std::to_string(sends) + " attempt(s) (retries.max_attempts); last: " +
                               last_transient});
    } else {
      const auto delay = queue::retry_delay(retries, static_cast<unsigned>(sends), retry_after, jitter);
      const std::int64_t due = now_ms + delay.count();
      job::Notification next = with_tokens(n, std::move(transient));
      if (!next.job) next.job.emplace();
      next.job->attempt = sends;
      if (expires_before(n, due)) {
        plan.dead.push_back({std::move(next), queue::DeadReason::expired,
                             "its expiration passes before the next attempt; last: " + last_transient});
      } else {
        plan.retries.push_back({std::move(next), due});
      }
    }
  }

  if (!credentials.empty()) {
    const std::int64_t due = now_ms + queue::retry_delay(retries, 1000, std::nullopt, jitter).count();
    wait_for(plan, n, with_tokens(n, std::move(credentials)), due,
             "its expiration passes before the credentials are fixed; last: " + last_credentials);
  }
  return plan;
}

}  // namespace pushgw::dispatch
