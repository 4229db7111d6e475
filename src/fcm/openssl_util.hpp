#pragma once
// RAII owners for the few OpenSSL objects the fcm module uses, and the text of OpenSSL's
// error queue. Private to the fcm module (not under include/). apns has the same kind of
// helpers in src/apns/openssl_util.hpp, private to it; these are kept to what fcm needs.

#include <memory>
#include <string>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>

namespace pushgw::fcm::detail {

struct BioFree { void operator()(BIO* p) const { BIO_free(p); } };
struct PkeyFree { void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); } };
struct MdCtxFree { void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); } };

using BioPtr = std::unique_ptr<BIO, BioFree>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;

// The reason text of the most recent OpenSSL error (never key material), and clears the
// thread's error queue so later, unrelated calls do not see stale errors.
inline std::string take_openssl_error() {
  unsigned long last = 0;
  while (unsigned long code = ERR_get_error()) last = code;
  if (last == 0) return "unknown OpenSSL error";
  const char* reason = ERR_reason_error_string(last);
  return reason != nullptr ? reason : "OpenSSL error " + std::to_string(last);
}

}  // namespace pushgw::fcm::detail
