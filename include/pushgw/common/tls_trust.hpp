#pragma once
// Whom a TLS client trusts, shared by the HTTP/2 pools (APNs, FCM) and the Redis connections.

#include <string>

#include <boost/asio/ssl/context.hpp>

namespace pushgw::common {

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
