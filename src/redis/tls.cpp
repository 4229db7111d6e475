// The Redis connections' TLS context, apart from the client that uses it.
#include "pushgw/redis/tls.hpp"

#include <boost/asio/ssl.hpp>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

#include "pushgw/common/openssl.hpp"
#include "pushgw/common/tls_client.hpp"

namespace pushgw::redis {

namespace asio = boost::asio;

std::shared_ptr<asio::ssl::context> make_tls_context(const config::RedisTlsConfig& tls,
                                                     std::string* error) {
  std::string ignored;
  if (!error) error = &ignored;
  auto ctx = common::new_tls_client_context();
  SSL_CTX* native = ctx->native_handle();
  *error = common::trust_ca_file(*ctx, tls.ca_file);
  if (!error->empty()) {
    *error = (tls.ca_file.empty() ? "redis.tls: " : "redis.tls.") + *error;
    return nullptr;
  }

  if (!tls.cert_file.empty()) {
    boost::system::error_code ec;
    ctx->use_certificate_chain_file(tls.cert_file, ec);
    if (ec) {
      *error = "redis.tls.cert_file " + tls.cert_file + ": not a PEM certificate (" + ec.message() + ")";
      return nullptr;
    }
    // Read apart from installing it, so that a key of another certificate is told from a
    // file that holds no usable key.
    std::string why;
    const auto pem = common::openssl::read_whole_file(tls.key_file, &why);
    if (!pem) {
      *error = "redis.tls.key_file " + tls.key_file + ": " + why;
      return nullptr;
    }
    const common::openssl::BioPtr bio = common::openssl::memory_bio(*pem);
    const common::openssl::PkeyPtr key(
        PEM_read_bio_PrivateKey(bio.get(), nullptr, common::openssl::password_callback, nullptr));  // never prompts
    if (!key) {
      *error = "redis.tls.key_file " + tls.key_file + ": not an unencrypted PEM private key (" +
               common::openssl::take_openssl_error() + ")";
      return nullptr;
    }
    if (SSL_CTX_use_PrivateKey(native, key.get()) != 1 || SSL_CTX_check_private_key(native) != 1) {
      ERR_clear_error();
      *error = "redis.tls.key_file " + tls.key_file + " does not match redis.tls.cert_file " + tls.cert_file;
      return nullptr;
    }
  }
  return ctx;
}

}  // namespace pushgw::redis
