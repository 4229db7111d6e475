#pragma once
// The TLS client context a pool's connections share.

#include <memory>
#include <string>

#include "pushgw/h2/connection.hpp"

namespace boost::asio::ssl {
class context;
}

namespace pushgw::h2 {

// A TLS client context for ConnectionConfig: TLS >= 1.2, ALPN "h2", verification against
// ca_file or the system store, optional client certificate (install_client_certificate). Shared by the connections of a
// pool. Returns nullptr and sets *error (naming the file and the OpenSSL reason) on failure.
std::shared_ptr<boost::asio::ssl::context> make_tls_context(const ConnectionConfig& config,
                                                            std::string* error);

}  // namespace pushgw::h2
