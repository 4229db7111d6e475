#pragma once
// Hex digests for the queue module (script SHA-1s, element ids). Private to src/queue.

#include <openssl/evp.h>

#include <array>
#include <stdexcept>
#include <string>
#include <string_view>

namespace pushgw::queue::detail {

// Lowercase hex of `md`(text), the first `bytes` bytes (all when 0).
inline std::string hex_digest(const EVP_MD* md, std::string_view text, std::size_t bytes = 0) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  if (EVP_Digest(text.data(), text.size(), digest.data(), &length, md, nullptr) != 1) {
    throw std::runtime_error("digest failed");
  }
  if (bytes == 0 || bytes > length) bytes = length;
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * bytes);
  for (std::size_t i = 0; i < bytes; ++i) {
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 0xf]);
  }
  return out;
}

}  // namespace pushgw::queue::detail
