// The TLS client context of a pool's connections (ALPN h2, TLS >= 1.2, verification, an
// optional client certificate), apart from the HTTP/2 session that uses it.
#include "pushgw/h2/tls.hpp"

#include <boost/asio/ssl.hpp>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "pushgw/common/openssl.hpp"
#include "pushgw/common/tls_client.hpp"

namespace pushgw::h2 {

namespace asio = boost::asio;
using boost::system::error_code;

std::shared_ptr<asio::ssl::context> make_tls_context(const ConnectionConfig& config,
                                                     std::string* error) {
  std::string ignored;
  if (!error) error = &ignored;
  auto ctx = common::new_tls_client_context();
  SSL_CTX* native = ctx->native_handle();
  static constexpr unsigned char alpn[] = {2, 'h', '2'};
  if (SSL_CTX_set_alpn_protos(native, alpn, sizeof alpn) != 0) {
    *error = "cannot set ALPN: " + common::openssl::take_openssl_error();
    return nullptr;
  }

  error_code ec;
  if (config.verify_peer) {
    *error = common::trust_ca_file(*ctx, config.ca_file);
    if (!error->empty()) return nullptr;
  } else {
    ctx->set_verify_mode(asio::ssl::verify_none, ec);
  }

  // A client certificate comes already loaded (APNs certificate auth: apns::load_credentials
  // reads PEM or PKCS#12 and checks it once, at start-up).
  if (config.install_client_certificate) {
    try {
      config.install_client_certificate(native);
    } catch (const std::exception& e) {
      *error = std::string("client certificate: ") + e.what();
      return nullptr;
    }
    if (SSL_CTX_check_private_key(native) != 1) {
      *error = "client certificate: the private key does not match the certificate";
      return nullptr;
    }
  }
  return ctx;
}

}  // namespace pushgw::h2
