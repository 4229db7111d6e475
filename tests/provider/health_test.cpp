// provider/health: credential problems logged once per appearance, judged from answers, and
// what health_of reports (no I/O: a pool is not needed to judge credentials).
#include "pushgw/provider/health.hpp"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <sstream>

namespace pushgw::provider {
namespace {

class CredentialStateTest : public ::testing::Test {
 protected:
  CredentialStateTest()
      : logger_(std::make_shared<spdlog::logger>("test", std::make_shared<spdlog::sinks::ostream_sink_st>(log_))),
        state_({"APNs", "app demo", "token key ABC", "the key"}, logger_) {}

  std::size_t lines() const {
    const std::string text = log_.str();
    return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
  }

  std::ostringstream log_;
  std::shared_ptr<spdlog::logger> logger_;
  CredentialState state_;
};

job::SendOutcome answer(job::OutcomeKind kind, int status, std::string reason) {
  job::SendOutcome o;
  o.kind = kind;
  o.status = status;
  o.reason = std::move(reason);
  return o;
}

TEST_F(CredentialStateTest, AProblemIsLoggedOnceAndClearedByAJudgedAnswer) {
  EXPECT_EQ(state_.problem(), "");
  for (int i = 0; i < 5; ++i) state_.observe(answer(job::OutcomeKind::credentials_error, 403, "InvalidProviderToken"));
  EXPECT_EQ(state_.problem(), "APNs answered 403 InvalidProviderToken");
  EXPECT_EQ(lines(), 1u) << log_.str();
  EXPECT_NE(log_.str().find("token key ABC"), std::string::npos);
  EXPECT_NE(log_.str().find("until the key is fixed"), std::string::npos) << log_.str();

  // A retry (429, 503, a lost connection) says nothing about credentials.
  state_.observe(answer(job::OutcomeKind::retry, 503, "ServiceUnavailable"));
  state_.observe(answer(job::OutcomeKind::retry, 0, "transport error"));
  EXPECT_NE(state_.problem(), "");
  // A notification judged (delivered, rejected, dead token) means we were let in.
  state_.observe(answer(job::OutcomeKind::token_dead, 410, "Unregistered"));
  EXPECT_EQ(state_.problem(), "");
  EXPECT_EQ(lines(), 2u) << log_.str();
}

TEST_F(CredentialStateTest, HealthNamesTheFirstProblemOnly) {
  EXPECT_TRUE(health_of(state_, {}, nullptr, "token key ABC").ok);
  Health h = health_of(state_, "certificate expired on 2026-01-01", nullptr, "cert");
  EXPECT_FALSE(h.ok);
  EXPECT_EQ(h.error, "certificate expired on 2026-01-01");
  EXPECT_EQ(h.credentials, "cert");
  state_.refused("the token endpoint refused the service account: invalid_grant", "Invalid JWT Signature.");
  h = health_of(state_, "certificate expired on 2026-01-01", nullptr, "cert");
  EXPECT_EQ(h.error, "the token endpoint refused the service account: invalid_grant");
  EXPECT_NE(log_.str().find("Invalid JWT Signature."), std::string::npos);  // detail: log only
}

}  // namespace
}  // namespace pushgw::provider
