#include "pushgw/provider/health.hpp"

#include <spdlog/spdlog.h>

namespace pushgw::provider {

CredentialState::CredentialState(Describe describe, std::shared_ptr<spdlog::logger> logger)
    : describe_(std::move(describe)), logger_(std::move(logger)) {}

void CredentialState::refused(const std::string& text, std::string_view detail) {
  std::lock_guard lock(mutex_);
  if (problem_ == text) return;
  problem_ = text;
  logger_->error("{}: {}: {} refuses our credentials or config ({}{}{}); every send of this app will fail until {} "
                 "is fixed",
                 describe_.app_label, text, describe_.service, detail, detail.empty() ? "" : "; ",
                 describe_.credentials, describe_.what_to_fix);
}

void CredentialState::accepted() {
  std::lock_guard lock(mutex_);
  if (problem_.empty()) return;
  logger_->info("{}: {} accepts our credentials again (was: {})", describe_.app_label, describe_.service, problem_);
  problem_.clear();
}

void CredentialState::observe(const job::SendOutcome& outcome, std::string_view detail) {
  if (outcome.kind == job::OutcomeKind::credentials_error) {
    refused(describe_.service + " answered " + std::to_string(outcome.status) + " " + outcome.reason, detail);
  } else if (outcome.status != 0 && outcome.kind != job::OutcomeKind::retry) {
    accepted();  // the service accepted our credentials and judged the notification
  }
}

std::string CredentialState::problem() const {
  std::lock_guard lock(mutex_);
  return problem_;
}

Health health_of(const CredentialState& state, std::string other_problem, const h2::Pool* pool,
                 std::string credentials) {
  Health health;
  health.credentials = std::move(credentials);
  health.error = state.problem();
  if (health.error.empty()) health.error = std::move(other_problem);
  // Credentials are judged by the service's answers; without a connection there are none.
  if (health.error.empty() && pool != nullptr) health.error = h2::connection_problem(pool->stats(), pool->config());
  health.ok = health.error.empty();
  return health;
}

}  // namespace pushgw::provider
