#pragma once
// OpenSSL helpers the credential loaders share (APNs keys and certificates, FCM service
// accounts): RAII owners, reading a whole file with an errno-based message, a memory BIO, the
// text of OpenSSL's error queue, and a password callback that never prompts.

#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

namespace pushgw::common::openssl {

struct BioFree { void operator()(BIO* p) const { BIO_free(p); } };
struct PkeyFree { void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); } };
struct X509Free { void operator()(X509* p) const { X509_free(p); } };
struct MdCtxFree { void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); } };

using BioPtr = std::unique_ptr<BIO, BioFree>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
using X509Ptr = std::unique_ptr<X509, X509Free>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;

// The whole file, or nullopt with *error set to the OS reason ("No such file or directory").
inline std::optional<std::string> read_whole_file(const std::string& path, std::string* error) {
  errno = 0;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *error = errno != 0 ? std::strerror(errno) : "cannot open";
    return std::nullopt;
  }
  std::ostringstream content;
  content << in.rdbuf();
  if (in.bad()) {
    *error = errno != 0 ? std::strerror(errno) : "read error";
    return std::nullopt;
  }
  return std::move(content).str();
}

// A read-only memory BIO over `data` (which must outlive it).
inline BioPtr memory_bio(const std::string& data) {
  return BioPtr(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
}

// The reason text of the most recent OpenSSL error (never key material), and clears the
// thread's error queue so later, unrelated calls do not see stale errors.
inline std::string take_openssl_error() {
  unsigned long last = 0;
  while (unsigned long code = ERR_get_error()) last = code;
  if (last == 0) return "unknown OpenSSL error";
  const char* reason = ERR_reason_error_string(last);
  return reason != nullptr ? reason : "OpenSSL error " + std::to_string(last);
}

// Password callback that never prompts on the terminal: OpenSSL's default would block a
// daemon waiting for stdin. `userdata` is a const std::string* password, or null for none.
inline int password_callback(char* buffer, int size, int /*rwflag*/, void* userdata) {
  if (userdata == nullptr) return -1;
  const auto* password = static_cast<const std::string*>(userdata);
  if (password->empty() || password->size() > static_cast<std::size_t>(size)) return -1;
  std::memcpy(buffer, password->data(), password->size());
  return static_cast<int>(password->size());
}

}  // namespace pushgw::common::openssl
