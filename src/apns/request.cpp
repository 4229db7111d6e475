#include "pushgw/apns/request.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <random>

#include <openssl/rand.h>

#include "pushgw/common/hex.hpp"
#include "pushgw/job/codec.hpp"
#include "pushgw/job/validate.hpp"

namespace pushgw::apns {
namespace {

job::SendOutcome refused(job::OutcomeKind kind, std::string reason) {
  job::SendOutcome outcome;
  outcome.kind = kind;
  outcome.status = 0;  // nothing was sent
  outcome.reason = std::move(reason);
  return outcome;
}

}  // namespace

bool is_hex_device_token(std::string_view token) {
  return !token.empty() && common::first_non_hex(token) == token.size();
}

namespace {

// xoshiro256** (Blackman and Vigna): fast, 256 bits of state, seeded from OpenSSL once per
// thread. RAND_bytes per request cost a lock and a getpid() each time.
class IdGenerator {
 public:
  IdGenerator() {
    if (RAND_bytes(reinterpret_cast<unsigned char*>(state_.data()), sizeof state_) != 1) {
      std::random_device device;  // OpenSSL failing is near impossible
      for (auto& word : state_) word = (static_cast<std::uint64_t>(device()) << 32) ^ device();
    }
    if (state_[0] == 0 && state_[1] == 0 && state_[2] == 0 && state_[3] == 0) state_[0] = 1;
  }

  std::uint64_t next() {
    const std::uint64_t result = rotl(state_[1] * 5, 7) * 9;
    const std::uint64_t t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = rotl(state_[3], 45);
    return result;
  }

 private:
  static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::array<std::uint64_t, 4> state_{};
};

}  // namespace

std::string new_apns_id() {
  thread_local IdGenerator generator;
  std::array<unsigned char, 16> bytes{};
  const std::uint64_t high = generator.next();
  const std::uint64_t low = generator.next();
  for (std::size_t i = 0; i < 8; ++i) {
    bytes[i] = static_cast<unsigned char>(high >> (8 * i));
    bytes[8 + i] = static_cast<unsigned char>(low >> (8 * i));
  }
  bytes[6] = static_cast<unsigned char>((bytes[6] & 0x0F) | 0x40);  // version 4
  bytes[8] = static_cast<unsigned char>((bytes[8] & 0x3F) | 0x80);  // RFC 4122 variant
  constexpr std::string_view kHex = "0123456789abcdef";
  std::array<char, 36> id{};  // filled, then made a string once: one per send
  std::size_t at = 0;
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) id[at++] = '-';
    id[at++] = kHex[bytes[i] >> 4];
    id[at++] = kHex[bytes[i] & 0x0F];
  }
  return std::string(id.data(), id.size());
}

std::optional<job::SendOutcome> check_device_token(std::string_view device_token) {
  using job::OutcomeKind;
  if (device_token.empty()) return refused(OutcomeKind::rejected, "MissingDeviceToken");
  if (!is_hex_device_token(device_token)) return refused(OutcomeKind::token_dead, "BadDeviceToken");
  return std::nullopt;
}

std::string device_path(std::string_view device_token) {
  constexpr std::string_view kPrefix = "/3/device/";
  std::string path;
  path.reserve(kPrefix.size() + device_token.size());
  path.append(kPrefix).append(device_token);
  return path;
}

std::string broadcast_path(std::string_view bundle_id) {
  return "/4/broadcasts/apps/" + std::string(bundle_id);
}

std::variant<ApnsPrepared, job::SendOutcome> prepare_apns_request(const job::Notification& n,
                                                                  const std::string& default_topic,
                                                                  const std::string& authorization) {
  using job::OutcomeKind;
  ApnsPrepared prepared;
  std::string push_type;
  try {
    const nlohmann::json payload = build_apns_payload_json(n);  // once: body and push type
    prepared.body = job::dump_compact(payload);
    push_type = effective_push_type(n, payload);
    prepared.headers = build_apns_headers(n, default_topic, push_type);
  } catch (const std::exception& e) {
    // nlohmann refuses to serialise invalid UTF-8, for one.
    return refused(OutcomeKind::rejected, std::string("cannot build the APNs payload: ") + e.what());
  }
  if (prepared.body.size() > apns_payload_limit(n, push_type)) return refused(OutcomeKind::rejected, "PayloadTooLarge");
  prepared.topic_from_notification =
      (n.topic && !n.topic->empty()) || job::apns_passthrough_header(n, "apns-topic").has_value();
  if (n.target == job::Target::apns_channel) {
    const std::string& bundle = n.topic && !n.topic->empty() ? *n.topic : default_topic;
    if (bundle.empty()) return refused(OutcomeKind::credentials_error, "MissingTopic");
    prepared.broadcast_path = broadcast_path(bundle);
    // A broadcast request is named by apns-request-id; apns-id is a device push's.
    std::erase_if(prepared.headers, [](const auto& h) { return h.first == "apns-topic"; });
  }

  // Our credentials are not the producer's to replace.
  std::erase_if(prepared.headers, [](const auto& h) { return h.first == "authorization"; });
  if (!authorization.empty()) prepared.headers.emplace_back("authorization", authorization);

  const auto id = std::find_if(prepared.headers.begin(), prepared.headers.end(),
                               [](const auto& h) { return h.first == "apns-id"; });
  if (id != prepared.headers.end()) {
    prepared.fixed_apns_id = id->second;
    prepared.headers.erase(id);
  }
  return prepared;
}

std::variant<ApnsRequest, job::SendOutcome> build_apns_request(const job::Notification& n,
                                                               std::string_view device_token,
                                                               const std::string& default_topic,
                                                               const std::string& authorization) {
  if (auto refusal = check_device_token(device_token)) return std::move(*refusal);
  auto prepared = prepare_apns_request(n, default_topic, authorization);
  if (auto* refusal = std::get_if<job::SendOutcome>(&prepared)) return std::move(*refusal);
  auto& shared = std::get<ApnsPrepared>(prepared);

  ApnsRequest request;
  request.path = device_path(device_token);
  request.body = std::move(shared.body);
  request.headers = std::move(shared.headers);
  request.topic_from_notification = shared.topic_from_notification;
  request.apns_id = shared.fixed_apns_id.empty() ? new_apns_id() : std::move(shared.fixed_apns_id);
  request.headers.emplace_back("apns-id", request.apns_id);
  return request;
}

}  // namespace pushgw::apns
