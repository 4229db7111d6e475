#pragma once
// The configuration the request and job harnesses validate against: one app per provider mix
// and small limits, so that the limit checks and job splitting are within a fuzzer's reach.

#include "pushgw/job/validate.hpp"

namespace pushgw::fuzz {

inline job::ValidationContext validation_context() {
  job::ValidationContext context;
  context.limits.max_notifications_per_request = 8;
  context.limits.max_tokens_per_notification = 16;
  context.limits.job_split_size = 3;
  context.apps.emplace("ios-app", job::AppProviders{.apns = true, .fcm = false, .web = true});
  context.apps.emplace("android-app", job::AppProviders{.apns = false, .fcm = true, .web = false});
  context.apps.emplace("both", job::AppProviders{.apns = true, .fcm = true, .web = true});
  return context;
}

}  // namespace pushgw::fuzz
