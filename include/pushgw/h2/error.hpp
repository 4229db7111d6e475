#pragma once
// Errors of the HTTP/2 client (category "pushgw.h2"). They cross into the APNs and FCM
// providers, which classify them: not_processed is safe to resend without counting an
// attempt (the server never saw the request); the others may or may not have been acted on.

#include <boost/system/error_code.hpp>

namespace pushgw::h2 {

enum class error {
  connect_failed = 1,  // DNS resolution or TCP connect failed, or took longer than connect_timeout
  tls_failed,          // TLS handshake failed (certificate verification, protocol version, ...)
  alpn_not_h2,         // the server did not select "h2" via ALPN
  protocol,            // the peer broke the HTTP/2 protocol (connection-level error)
  not_processed,       // never reached the server: REFUSED_STREAM, above GOAWAY's last-stream-id,
                       // or queued on a connection that started draining/closed before sending
  stream_reset,        // the server reset the stream (RST_STREAM other than REFUSED_STREAM)
  timeout,             // no complete response within request_timeout
  connection_lost,     // the connection dropped after the request was sent
  closed,              // the connection/pool is closed or stopping; nothing was sent
  no_connection,       // the pool has no ready connection within connect_timeout
  bad_request,         // the request itself is unusable (e.g. a header with a newline)
};

const boost::system::error_category& error_category();
inline boost::system::error_code make_error_code(error e) { return {static_cast<int>(e), error_category()}; }

// True for errors after which the request certainly did not reach the server, so a caller may
// resend it elsewhere without counting an attempt.
bool never_sent(const boost::system::error_code& ec);

}  // namespace pushgw::h2

namespace boost::system {
template <>
struct is_error_code_enum<pushgw::h2::error> : std::true_type {};
}  // namespace boost::system
