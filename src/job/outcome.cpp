#include "pushgw/job/outcome.hpp"

namespace pushgw::job {

std::string_view to_string(OutcomeKind kind) {
  switch (kind) {
    case OutcomeKind::delivered: return "delivered";
    case OutcomeKind::retry: return "retry";
    case OutcomeKind::token_dead: return "token_dead";
    case OutcomeKind::rejected: return "rejected";
    case OutcomeKind::credentials_error: return "credentials_error";
  }
  return "unknown";
}

}  // namespace pushgw::job
