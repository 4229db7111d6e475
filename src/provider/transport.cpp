#include "pushgw/provider/transport.hpp"

#include "pushgw/h2/error.hpp"

namespace pushgw::provider {

using job::OutcomeKind;

job::SendOutcome classify_transport_error(const boost::system::error_code& error) {
  job::SendOutcome outcome;
  outcome.status = 0;
  outcome.reason = "transport error: " + error.message();
  // The one error that is the notification's: the HTTP/2 layer could not even encode the
  // request (e.g. a pass-through header value with a newline). Resending cannot help.
  outcome.kind = error == h2::error::bad_request ? OutcomeKind::rejected : OutcomeKind::retry;
  outcome.unanswered = !h2::never_sent(error);
  return outcome;
}

}  // namespace pushgw::provider
