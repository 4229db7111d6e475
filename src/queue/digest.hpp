#pragma once
// Hex digests for the queue module (script SHA-1s, element ids). Private to src/queue.

#include <openssl/evp.h>

#include <array>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

namespace pushgw::queue::detail {

// Lowercase hex of `md`(text), the first `bytes` bytes (all when 0).
inline std::string hex_digest(const EVP_MD* md, std::string_view text, std::size_t bytes = 0) {
  // One context per thread, reused: EVP_Digest makes and frees a context (and the digest's own
  // state) on every call, and an element id is hashed per job.
  thread_local const std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context(EVP_MD_CTX_new(),
                                                                                     &EVP_MD_CTX_free);
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  if (!context || EVP_DigestInit_ex2(context.get(), md, nullptr) != 1 ||
      EVP_DigestUpdate(context.get(), text.data(), text.size()) != 1 ||
      EVP_DigestFinal_ex(context.get(), digest.data(), &length) != 1) {
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
