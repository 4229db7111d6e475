#pragma once
// TLS client contexts and whom they trust, shared by the HTTP/2 pools (APNs, FCM) and the Redis connections.

#include <memory>
#include <string>

#include <boost/asio/ssl/context.hpp>
#include <openssl/err.h>
#include <openssl/ssl.h>

namespace pushgw::common {

// A TLS client context: TLS 1.2 or later, no compression; whom it trusts is up to the caller.
inline std::shared_ptr<boost::asio::ssl::context> new_tls_client_context() {
  namespace ssl = boost::asio::ssl;
  ERR_clear_error();
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
  SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION);
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_compression);
  return ctx;
}

// Makes `ctx` verify the server's certificate against `ca_file` (PEM), or against the system's
// CA store when it is empty. Returns "" or what went wrong, naming the file or the store:
// "ca_file /etc/ca.pem: no start line (PEM routines)".
inline std::string trust_ca_file(boost::asio::ssl::context& ctx, const std::string& ca_file) {
  boost::system::error_code ec;
  ctx.set_verify_mode(boost::asio::ssl::verify_peer, ec);
  if (ca_file.empty()) {
    ctx.set_default_verify_paths(ec);
    return ec ? "cannot load the system CA store: " + ec.message() : std::string();
  }
  ctx.load_verify_file(ca_file, ec);
  return ec ? "ca_file " + ca_file + ": " + ec.message() : std::string();
}

}  // namespace pushgw::common
