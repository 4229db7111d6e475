// API-key authentication for the HTTP front door.

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <array>

#include "pushgw/http/server.hpp"

namespace pushgw::http {
namespace {

using Digest = std::array<unsigned char, SHA256_DIGEST_LENGTH>;

Digest digest_of(std::string_view text) {
  Digest d{};
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), d.data());
  return d;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool iequals_prefix(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(s[i])) != prefix[i]) return false;
  }
  return true;
}

}  // namespace

bool api_key_matches(std::string_view presented, const std::vector<std::string>& keys) {
  // Hashing first makes the comparison independent of the keys' lengths, and comparing with
  // every key (no early exit) keeps the time independent of which key matched.
  const Digest given = digest_of(presented);
  bool matched = false;
  for (const auto& key : keys) {
    const Digest expected = digest_of(key);
    matched |= CRYPTO_memcmp(given.data(), expected.data(), given.size()) == 0;
  }
  return matched && !presented.empty();
}

std::optional<std::string_view> presented_api_key(const Request& request) {
  if (auto auth = request.header("authorization")) {
    std::string_view value = trim(*auth);
    if (iequals_prefix(value, "bearer ")) return trim(value.substr(7));
  }
  if (auto key = request.header("x-api-key")) return trim(*key);
  return std::nullopt;
}

std::optional<std::string_view> Request::header(std::string_view name) const {
  for (const auto& [n, v] : headers) {
    if (n == name) return std::string_view(v);
  }
  return std::nullopt;
}

}  // namespace pushgw::http
