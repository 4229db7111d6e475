#pragma once
// `pushgw channels create|list|show|delete` (issue 19): manage an app's APNs broadcast channels
// (iOS 18 Live Activities) with its APNs credentials, on its channels_endpoint. A broadcast is
// then a notification with `channel` instead of tokens. Bad options, an app without APNs and
// APNs refusals each get a message and a non-zero exit.

#include <iosfwd>
#include <string>

#include "pushgw/config/config.hpp"

namespace pushgw::app {

struct ChannelsOptions {
  std::string action;      // create | list | show | delete
  std::string app;         // "" = the only app
  std::string channel;     // show, delete: the channel id
  int storage_policy = 0;  // create: 0 = no message stored, 1 = the most recent stored
};

// Prints the channel id (create), one id per line (list), the channel's storage policy (show)
// or what was deleted. Returns 0 done, 1 APNs refused or could not be reached, 2 bad options.
int channels(const config::Config& config, const ChannelsOptions& options, std::ostream& out, std::ostream& err);

}  // namespace pushgw::app
