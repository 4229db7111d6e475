#pragma once
// Builds the provider of an app for a platform from the configuration: the one place that
// knows which provider classes exist. Used by the daemon and by `pushgw send`.

#include <memory>
#include <string>

#include <boost/asio/any_io_executor.hpp>

#include "pushgw/config/config.hpp"
#include "pushgw/job/notification.hpp"
#include "pushgw/provider/provider.hpp"

namespace pushgw::app {

// Loads the credentials (throws their loader's error, naming the config key, when they cannot
// be used) and constructs the provider, not started; nullptr when `app` has no provider for
// `platform`.
std::unique_ptr<provider::Provider> make_provider(const config::Config& cfg, const std::string& app,
                                                  job::Platform platform, boost::asio::any_io_executor executor);

}  // namespace pushgw::app
