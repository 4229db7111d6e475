#include "pushgw/apns/request.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <random>

#include <openssl/rand.h>

namespace pushgw::apns {
namespace {

job::SendOutcome refused(job::OutcomeKind kind, std::string reason) {
  job::SendOutcome outcome;
  outcome.kind = kind;
  outcome.status = 0;  // nothing was sent
  outcome.reason = std::move(reason);
  return outcome;
}

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
  });
}

bool has_pass_through_header(const job::Notification& n, std::string_view name) {
  if (!n.apns || !n.apns->is_object()) return false;
  const auto headers = n.apns->find("headers");
  if (headers == n.apns->end() || !headers->is_object()) return false;
  return std::any_of(headers->items().begin(), headers->items().end(),
                     [&](const auto& item) { return equals_ignoring_case(item.key(), name); });
}

}  // namespace

bool is_hex_device_token(std::string_view token) {
  return !token.empty() && std::all_of(token.begin(), token.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  });
}

std::string new_apns_id() {
  std::array<unsigned char, 16> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
    // OpenSSL's generator failing is near impossible; uniqueness, not secrecy, matters here.
    std::random_device device;
    for (auto& b : bytes) b = static_cast<unsigned char>(device());
  }
  bytes[6] = static_cast<unsigned char>((bytes[6] & 0x0F) | 0x40);  // version 4
  bytes[8] = static_cast<unsigned char>((bytes[8] & 0x3F) | 0x80);  // RFC 4122 variant
  constexpr std::string_view kHex = "0123456789abcdef";
  std::string id;
  id.reserve(36);
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) id += '-';
    id += kHex[bytes[i] >> 4];
    id += kHex[bytes[i] & 0x0F];
  }
  return id;
}

std::variant<ApnsRequest, job::SendOutcome> build_apns_request(const job::Notification& n,
                                                               std::string_view device_token,
                                                               const std::string& default_topic,
                                                               const std::string& authorization) {
  using job::OutcomeKind;
  if (device_token.empty()) return refused(OutcomeKind::rejected, "MissingDeviceToken");
  if (!is_hex_device_token(device_token)) return refused(OutcomeKind::token_dead, "BadDeviceToken");

  ApnsRequest request;
  try {
    request.body = build_apns_payload(n);
    request.headers = build_apns_headers(n, default_topic);
  } catch (const std::exception& e) {
    // nlohmann refuses to serialise invalid UTF-8, for one.
    return refused(OutcomeKind::rejected, std::string("cannot build the APNs payload: ") + e.what());
  }
  const std::size_t limit = apns_payload_limit(n);
  if (request.body.size() > limit) {
    return refused(OutcomeKind::rejected, "PayloadTooLarge");
  }

  request.path = "/3/device/" + std::string(device_token);
  request.topic_from_notification = (n.topic && !n.topic->empty()) || has_pass_through_header(n, "apns-topic");

  // Our credentials are not the producer's to replace.
  std::erase_if(request.headers, [](const auto& h) { return h.first == "authorization"; });
  if (!authorization.empty()) request.headers.emplace_back("authorization", authorization);

  const auto id = std::find_if(request.headers.begin(), request.headers.end(),
                               [](const auto& h) { return h.first == "apns-id"; });
  if (id != request.headers.end()) {
    request.apns_id = id->second;
  } else {
    request.apns_id = new_apns_id();
    request.headers.emplace_back("apns-id", request.apns_id);
  }
  return request;
}

}  // namespace pushgw::apns
