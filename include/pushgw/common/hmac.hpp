#pragma once
// HMAC-SHA256, written once for what pushgw signs or checks with a shared secret: the feedback
// webhook's X-Pushgw-Signature and the live web client tokens (HS256 JWTs).

#include <array>
#include <cstddef>
#include <string>
#include <string_view>

#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace pushgw::common {

inline constexpr std::size_t kHmacSha256Bytes = 32;

// The raw 32-byte MAC of `message` under `key` (any length, empty included); empty only if
// OpenSSL fails (out of memory), which no valid MAC can equal.
inline std::string hmac_sha256(std::string_view key, std::string_view message) {
  // OpenSSL may read a null key pointer as "no key"; an empty key is still a key.
  static constexpr unsigned char kEmpty = 0;
  const void* key_data = key.empty() ? static_cast<const void*>(&kEmpty) : key.data();
  std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
  unsigned int length = 0;
  if (HMAC(EVP_sha256(), key_data, static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(message.data()),
           message.size(), mac.data(), &length) == nullptr) {
    return {};
  }
  return std::string(reinterpret_cast<const char*>(mac.data()), length);
}

}  // namespace pushgw::common
