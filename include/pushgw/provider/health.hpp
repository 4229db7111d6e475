#pragma once
// A provider's health, as /readyz and pushgw_provider_healthy show it: whether the service
// accepts our credentials (judged from its answers) and whether a connection can be made.
// Shared by every provider.
//
// Threading: CredentialState is written from the provider's executor and read from any thread.

#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "pushgw/h2/pool.hpp"
#include "pushgw/job/outcome.hpp"

namespace spdlog {
class logger;
}

namespace pushgw::provider {

struct Health {
  bool ok = true;
  std::string error;        // empty when ok, e.g. "APNs answered 403 InvalidProviderToken"
  std::string credentials;  // what credentials the provider uses (never the secret itself)
};

// Whether the service accepts our credentials. A problem is logged once when it appears (not
// once per send) and once when the service accepts us again.
class CredentialState {
 public:
  struct Describe {
    std::string service;      // "APNs", "FCM"
    std::string app_label;    // "app demo", for log lines
    std::string credentials;  // as in Health::credentials
    std::string what_to_fix;  // "auth (key_file, key_id, team_id or certificate), topic or endpoint"
  };
  CredentialState(Describe describe, std::shared_ptr<spdlog::logger> logger);

  // The service refused us: `text` is what health() says; `detail` (the service's own words)
  // goes to the log line only, so the health text stays short and stable.
  void refused(const std::string& text, std::string_view detail = {});
  void accepted();
  // What an answer says about our credentials: a credentials_error refuses; an answer that
  // judged the notification itself (not a retry) accepts.
  void observe(const job::SendOutcome& outcome, std::string_view detail = {});

  // "" while the service accepts us.
  std::string problem() const;

 private:
  const Describe describe_;
  std::shared_ptr<spdlog::logger> logger_;
  mutable std::mutex mutex_;
  std::string problem_;
};

// A provider's health from its credential state, any other credential problem it knows of
// (an expired certificate), and its pool (no ready connection and the last attempt failed).
Health health_of(const CredentialState& state, std::string other_problem, const h2::Pool* pool,
                 std::string credentials);

}  // namespace pushgw::provider
