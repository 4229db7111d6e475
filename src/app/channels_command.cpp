#include "pushgw/app/channels_command.hpp"

#include <boost/asio.hpp>

#include <algorithm>
#include <ostream>

#include "pushgw/apns/channels.hpp"
#include "pushgw/apns/error.hpp"
#include "pushgw/job/validate.hpp"

#include "pushgw/common/coroutine_warnings.hpp"  // last: GCC 12 false positive

namespace pushgw::app {

namespace asio = boost::asio;

int channels(const config::Config& config, const ChannelsOptions& options, std::ostream& out, std::ostream& err) {
  static const std::pair<std::string_view, apns::ChannelAction> kActions[] = {
      {"create", apns::ChannelAction::create},
      {"list", apns::ChannelAction::list},
      {"show", apns::ChannelAction::read},
      {"delete", apns::ChannelAction::remove}};
  const auto* action = std::find_if(std::begin(kActions), std::end(kActions),
                                    [&](const auto& a) { return a.first == options.action; });
  if (action == std::end(kActions)) {
    err << "pushgw channels: unknown action \"" << options.action << "\" (create, list, show or delete)\n";
    return 2;
  }
  std::string app = options.app;
  if (app.empty() && config.apps.size() == 1) app = config.apps.begin()->first;
  const auto found = config.apps.find(app);
  if (found == config.apps.end()) {
    err << "pushgw channels: --app " << (app.empty() ? "is required when several apps are configured" : "\"" + app + "\" is not configured") << "\n";
    return 2;
  }
  if (!found->second.apns || found->second.apns->topic.empty()) {
    err << "pushgw channels: app " << app << " needs apns with a topic (its bundle id)\n";
    return 2;
  }
  const bool needs_channel = action->second == apns::ChannelAction::read || action->second == apns::ChannelAction::remove;
  if (needs_channel) {
    if (auto problem = job::check_apns_channel_id(options.channel)) {
      err << "pushgw channels: --channel " << *problem << "\n";
      return 2;
    }
  }
  if (options.storage_policy != 0 && options.storage_policy != 1) {
    err << "pushgw channels: --storage-policy must be 0 (no message stored) or 1 (the most recent stored)\n";
    return 2;
  }

  apns::ChannelResult result;
  try {
    auto credentials = apns::load_credentials(found->second.apns->auth, "apps." + app + ".apns.auth");
    asio::io_context io(1);
    apns::ChannelClient client(io.get_executor(), *found->second.apns, std::move(credentials));
    apns::ChannelOptions request{options.channel, options.storage_policy};
    asio::co_spawn(io, client.run(action->second, request), [&](std::exception_ptr e, apns::ChannelResult r) {
      if (e) std::rethrow_exception(e);
      result = std::move(r);
    });
    io.run();
  } catch (const std::exception& e) {
    err << "pushgw channels: " << e.what() << "\n";
    return 1;
  }
  if (!result.ok) {
    err << "pushgw channels: " << (result.status ? "APNs answered " + std::to_string(result.status) + " " : std::string())
        << result.reason << (result.request_id.empty() ? "" : " (apns-request-id " + result.request_id + ")") << "\n";
    return 1;
  }
  switch (action->second) {
    case apns::ChannelAction::create:
      out << result.channel_id << "\n";
      break;
    case apns::ChannelAction::list:
      for (const auto& id : result.channels) out << id << "\n";
      break;
    case apns::ChannelAction::read:
      out << options.channel << ": message-storage-policy " << *result.storage_policy
          << (*result.storage_policy == 1 ? " (the most recent message stored)" : " (no message stored)")
          << ", push-type LiveActivity\n";
      break;
    case apns::ChannelAction::remove:
      out << "deleted " << options.channel << "\n";
      break;
  }
  return 0;
}

}  // namespace pushgw::app
