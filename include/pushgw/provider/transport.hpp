#pragma once
// What a send that got no HTTP response means, for every provider over h2::Pool. Pure logic.

#include <boost/system/error_code.hpp>

#include "pushgw/job/outcome.hpp"

namespace pushgw::provider {

// A send that got no HTTP response (connect failure, TLS failure, timeout, connection lost,
// GOAWAY before the stream was processed, pool stopping) → retry, with status 0 and the
// error's text, `unanswered` when the request went out; except h2::error::bad_request (the
// request cannot be encoded, e.g. a pass-through header with a newline) → rejected.
job::SendOutcome classify_transport_error(const boost::system::error_code& error);

}  // namespace pushgw::provider
