#include "pushgw/sim/behaviour.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace pushgw::sim {
namespace {

TEST(SimBehaviour, AppliesOnlyTheGivenKeys) {
  BehaviourValues initial;
  initial.max_streams = 50;
  initial.latency_ms = 7;
  Behaviour behaviour(initial);
  std::string error;
  ASSERT_TRUE(behaviour.apply_json(R"({"force_status": 503, "error_rate": 0.25})", &error)) << error;
  EXPECT_EQ(behaviour.force_status(), 503);
  EXPECT_DOUBLE_EQ(behaviour.error_rate(), 0.25);
  EXPECT_EQ(behaviour.max_streams(), 50u);
  EXPECT_EQ(behaviour.latency_ms(), 7u);
}

TEST(SimBehaviour, NullClearsForcedStatusAndReason) {
  Behaviour behaviour;
  ASSERT_TRUE(behaviour.apply_json(R"({"force_status": 429, "force_reason": "Busy"})", nullptr));
  EXPECT_EQ(behaviour.force_reason(), "Busy");
  ASSERT_TRUE(behaviour.apply_json(R"({"force_status": null, "force_reason": null})", nullptr));
  EXPECT_EQ(behaviour.force_status(), 0);
  EXPECT_EQ(behaviour.force_reason(), "");
}

TEST(SimBehaviour, RejectsBadInputNamingTheKeyAndChangesNothing) {
  Behaviour behaviour;
  const BehaviourValues before = behaviour.snapshot();
  const auto rejects = [&](std::string_view json, std::string_view expected) {
    std::string error;
    EXPECT_FALSE(behaviour.apply_json(json, &error)) << json;
    EXPECT_NE(error.find(expected), std::string::npos) << json << " → " << error;
    EXPECT_EQ(behaviour.snapshot(), before) << json;
  };
  rejects("{", "not valid JSON");
  rejects("[1]", "must be a JSON object");
  rejects(R"({"latency_ms": 5, "bogus": 1})", "bogus: unknown setting");
  rejects(R"({"latency_ms": -1})", "latency_ms: must be");
  rejects(R"({"error_rate": 1.5})", "error_rate: must be a number from 0 to 1");
  rejects(R"({"force_status": 99})", "force_status: must be an HTTP status");
  rejects(R"({"force_status": "503"})", "force_status");
  rejects(R"({"stream_ramp": 1})", "stream_ramp: must be true or false");
  rejects(R"({"max_streams": 1.5})", "max_streams");
}

TEST(SimBehaviour, ToJsonRoundTrips) {
  BehaviourValues initial;
  initial.goaway_after = 100;
  initial.force_status = 503;
  initial.no_auth = true;
  Behaviour behaviour(initial);
  const auto doc = nlohmann::json::parse(behaviour.to_json());
  EXPECT_EQ(doc["goaway_after"], 100);
  EXPECT_EQ(doc["force_status"], 503);
  EXPECT_TRUE(doc["force_reason"].is_null());
  EXPECT_EQ(doc["no_auth"], true);
  Behaviour copy;
  ASSERT_TRUE(copy.apply_json(behaviour.to_json(), nullptr));
  EXPECT_EQ(copy.snapshot(), behaviour.snapshot());
}

}  // namespace
}  // namespace pushgw::sim
