#include "pushgw/h2/error.hpp"

#include "pushgw/common/error_category.hpp"

#include <string>

namespace pushgw::h2 {
namespace {

const char* describe(error e) {
  switch (e) {
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
  return nullptr;
}

}  // namespace

const boost::system::error_category& error_category() { return common::category_of<error>("pushgw.h2", describe); }

bool never_sent(const boost::system::error_code& ec) {
  return ec == error::not_processed || ec == error::closed || ec == error::no_connection ||
         ec == error::connect_failed || ec == error::tls_failed || ec == error::alpn_not_h2 ||
         ec == error::bad_request;
}

}  // namespace pushgw::h2
