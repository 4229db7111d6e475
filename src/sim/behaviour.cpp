#include "pushgw/sim/behaviour.hpp"

#include <limits>

#include <nlohmann/json.hpp>

namespace pushgw::sim {

using nlohmann::json;

Behaviour::Behaviour(const BehaviourValues& initial) { set(initial); }

BehaviourValues Behaviour::snapshot() const {
  std::lock_guard lock(mutex_);
  BehaviourValues values;
  values.max_streams = max_streams();
  values.stream_ramp = stream_ramp();
  values.latency_ms = latency_ms();
  values.goaway_after = goaway_after();
  values.drop_after = drop_after();
  values.error_rate = error_rate();
  values.force_status = force_status();
  values.force_reason = force_reason_;
  values.no_auth = no_auth();
  values.record_requests = record_requests();
  return values;
}

void Behaviour::set(const BehaviourValues& values) {
  std::lock_guard lock(mutex_);
  max_streams_ = values.max_streams;
  stream_ramp_ = values.stream_ramp;
  latency_ms_ = values.latency_ms;
  goaway_after_ = values.goaway_after;
  drop_after_ = values.drop_after;
  error_rate_ = values.error_rate;
  force_status_ = values.force_status;
  force_reason_ = values.force_reason;
  no_auth_ = values.no_auth;
  record_requests_ = values.record_requests;
}

std::string Behaviour::force_reason() const {
  std::lock_guard lock(mutex_);
  return force_reason_;
}

namespace {

bool unsigned_value(const json& value, std::uint64_t max, std::uint64_t* out) {
  if (value.is_number_unsigned() && value.get<std::uint64_t>() <= max) {
    *out = value.get<std::uint64_t>();
    return true;
  }
  if (value.is_number_integer() && value.get<std::int64_t>() >= 0 &&
      static_cast<std::uint64_t>(value.get<std::int64_t>()) <= max) {
    *out = static_cast<std::uint64_t>(value.get<std::int64_t>());
    return true;
  }
  return false;
}

}  // namespace

bool Behaviour::apply_json(std::string_view text, std::string* error) {
  std::string ignored;
  if (!error) error = &ignored;
  const json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) {
    *error = "body is not valid JSON";
    return false;
  }
  if (!doc.is_object()) {
    *error = "body must be a JSON object";
    return false;
  }
  BehaviourValues values = snapshot();
  for (const auto& [key, value] : doc.items()) {
    std::uint64_t number = 0;
    const auto bad = [&](const char* expected) {
      *error = key + ": must be " + expected + ", got " + value.dump();
      return false;
    };
    if (key == "max_streams") {
      if (!unsigned_value(value, std::numeric_limits<std::uint32_t>::max(), &number)) {
        return bad("a non-negative integer");
      }
      values.max_streams = static_cast<std::uint32_t>(number);
    } else if (key == "latency_ms") {
      if (!unsigned_value(value, 600000, &number)) return bad("an integer 0-600000");
      values.latency_ms = static_cast<std::uint32_t>(number);
    } else if (key == "goaway_after") {
      if (!unsigned_value(value, std::numeric_limits<std::uint64_t>::max(), &number)) {
        return bad("a non-negative integer (0 = never)");
      }
      values.goaway_after = number;
    } else if (key == "drop_after") {
      if (!unsigned_value(value, std::numeric_limits<std::uint64_t>::max(), &number)) {
        return bad("a non-negative integer (0 = never)");
      }
      values.drop_after = number;
    } else if (key == "error_rate") {
      if (!value.is_number() || value.get<double>() < 0.0 || value.get<double>() > 1.0) {
        return bad("a number from 0 to 1");
      }
      values.error_rate = value.get<double>();
    } else if (key == "force_status") {
      if (value.is_null()) {
        values.force_status = 0;
      } else if (unsigned_value(value, 599, &number) && number >= 200) {
        values.force_status = static_cast<int>(number);
      } else {
        return bad("an HTTP status 200-599 or null");
      }
    } else if (key == "force_reason") {
      if (value.is_null()) {
        values.force_reason.clear();
      } else if (value.is_string()) {
        values.force_reason = value.get<std::string>();
      } else {
        return bad("a string or null");
      }
    } else if (key == "stream_ramp" || key == "no_auth" || key == "record_requests") {
      if (!value.is_boolean()) return bad("true or false");
      (key == "stream_ramp" ? values.stream_ramp : key == "no_auth" ? values.no_auth : values.record_requests) =
          value.get<bool>();
    } else {
      *error = key + ": unknown setting (known: max_streams, stream_ramp, latency_ms, "
                     "goaway_after, drop_after, error_rate, force_status, force_reason, no_auth, "
                     "record_requests)";
      return false;
    }
  }
  set(values);
  return true;
}

std::string Behaviour::to_json() const {
  const BehaviourValues values = snapshot();
  json doc = {
      {"max_streams", values.max_streams},
      {"stream_ramp", values.stream_ramp},
      {"latency_ms", values.latency_ms},
      {"goaway_after", values.goaway_after},
      {"drop_after", values.drop_after},
      {"error_rate", values.error_rate},
      {"force_status", values.force_status == 0 ? json(nullptr) : json(values.force_status)},
      {"force_reason", values.force_reason.empty() ? json(nullptr) : json(values.force_reason)},
      {"no_auth", values.no_auth},
      {"record_requests", values.record_requests},
  };
  return doc.dump();
}

}  // namespace pushgw::sim
