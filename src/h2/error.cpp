#include "pushgw/h2/error.hpp"

#include <string>

namespace pushgw::h2 {
namespace {

class Category final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "pushgw.h2"; }

  std::string message(int value) const override {
    switch (static_cast<error>(value)) {
      case error::connect_failed: return "could not connect to the server";
      case error::tls_failed: return "TLS handshake failed";
      case error::alpn_not_h2: return "the server did not select HTTP/2 (ALPN h2)";
      case error::protocol: return "HTTP/2 protocol error";
      case error::not_processed: return "the request was not processed by the server";
      case error::stream_reset: return "the server reset the stream";
      case error::timeout: return "timed out";
      case error::connection_lost: return "the connection was lost before the response";
      case error::closed: return "closed";
      case error::no_connection: return "no HTTP/2 connection is ready";
      case error::bad_request: return "the request cannot be sent (invalid header)";
    }
    return "unknown pushgw.h2 error " + std::to_string(value);
  }
};

}  // namespace

const boost::system::error_category& error_category() {
  static const Category category;
  return category;
}

boost::system::error_code make_error_code(error e) {
  return {static_cast<int>(e), error_category()};
}

bool never_sent(const boost::system::error_code& ec) {
  return ec == error::not_processed || ec == error::closed || ec == error::no_connection ||
         ec == error::connect_failed || ec == error::tls_failed || ec == error::alpn_not_h2 ||
         ec == error::bad_request;
}

}  // namespace pushgw::h2
