#include "pushgw/web/channel.hpp"

#include <algorithm>
#include <array>
#include <unordered_set>

#include "pushgw/common/quote.hpp"
#include "pushgw/job/validate.hpp"

namespace pushgw::web {

namespace {

ChannelSelection refuse(int status, std::string message) {
  ChannelSelection out;
  out.status = status;
  out.message = std::move(message);
  return out;
}

}  // namespace

bool is_valid_channel(std::string_view name) {
  return !job::check_web_channel(name);  // the rule platform web's tokens are checked by
}

ChannelSelection select_channels(const std::optional<std::string>& param, const ClientToken& token) {
  ChannelSelection out;
  if (!param || param->empty()) {
    out.channels = token.channels;
    return out;
  }
  std::string_view rest = *param;
  std::vector<std::string> asked;
  std::unordered_set<std::string_view> seen;  // views into *param: a long list stays linear
  while (true) {
    const auto comma = rest.find(',');
    const std::string_view name = rest.substr(0, comma);
    // Every name is checked before any is looked up, so the status does not depend on order.
    if (!is_valid_channel(name)) {
      return refuse(400, "channels: " + common::quote(name) + " is not a valid channel name (" +
                             std::string(kChannelRule) + ")");
    }
    if (seen.insert(name).second) asked.emplace_back(name);
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  const std::unordered_set<std::string_view> granted(token.channels.begin(), token.channels.end());
  for (const auto& name : asked) {
    if (!granted.contains(name)) {
      return refuse(403, "channels: " + common::quote(name) + " is not among the client token's channels");
    }
  }
  out.channels = std::move(asked);
  return out;
}

}  // namespace pushgw::web
