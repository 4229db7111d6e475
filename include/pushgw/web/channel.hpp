#pragma once
// Channel names (the tokens of a platform `web` notification) and the channels a live client
// asks for: `channels=a,b` on GET /events and GET /ws, checked against its client token.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pushgw/job/validate.hpp"
#include "pushgw/web/client_token.hpp"

namespace pushgw::web {

inline constexpr std::size_t kMaxChannelBytes = job::kWebChannelMaxLength;
inline constexpr std::string_view kChannelRule = "1-128 characters of A-Z a-z 0-9 : _ . -";

// 1..128 characters of [A-Za-z0-9:_.-].
bool is_valid_channel(std::string_view name);

// The channels a request reads, or the refusal: 400 for a name that is not valid, 403 for
// one its token does not grant.
struct ChannelSelection {
  std::vector<std::string> channels;  // when ok(): de-duplicated, in the order asked
  int status = 0;                     // otherwise: 400 or 403
  std::string message;                // otherwise: what is wrong

  bool ok() const { return status == 0; }
  const std::vector<std::string>& value() const { return channels; }
};

// `param`: the decoded `channels` query parameter, comma-separated; absent or "" = every
// channel of the token.
ChannelSelection select_channels(const std::optional<std::string>& param, const ClientToken& token);

}  // namespace pushgw::web
