#pragma once
// The TLS client context of the Redis connections (rediss://): TLS >= 1.2, the server's
// certificate verified against redis.tls.ca_file or the system store, an optional client
// certificate. One context is shared by all of an instance's Redis clients.

#include <memory>
#include <string>

#include "pushgw/config/config.hpp"

namespace boost::asio::ssl {
class context;
}

namespace pushgw::redis {

// Returns nullptr and sets *error (naming the key, the file and OpenSSL's reason) when a file
// cannot be used: not PEM, a key that does not match the certificate, an encrypted key.
std::shared_ptr<boost::asio::ssl::context> make_tls_context(const config::RedisTlsConfig& tls,
                                                            std::string* error);

}  // namespace pushgw::redis
