#include "provider_factory.hpp"

#include "pushgw/apns/credentials.hpp"
#include "pushgw/apns/provider.hpp"
#include "pushgw/fcm/provider.hpp"
#include "pushgw/fcm/service_account.hpp"
#include "pushgw/redis/client.hpp"
#include "pushgw/web/provider.hpp"

namespace pushgw::app {

std::unique_ptr<provider::Provider> make_provider(const config::Config& cfg, const std::string& app,
                                                  job::Platform platform, boost::asio::any_io_executor executor) {
  const auto found = cfg.apps.find(app);
  if (found == cfg.apps.end()) return nullptr;
  const config::AppConfig& settings = found->second;
  if (platform == job::Platform::ios && settings.apns) {
    auto credentials = apns::load_credentials(settings.apns->auth, "apps." + app + ".apns.auth");
    apns::ProviderOptions options;
    options.app = app;
    return std::make_unique<apns::Provider>(std::move(executor), *settings.apns, std::move(credentials), options);
  }
  if (platform == job::Platform::android && settings.fcm) {
    auto account = fcm::load_service_account(settings.fcm->service_account_file,
                                             "apps." + app + ".fcm.service_account_file");
    fcm::ProviderOptions options;
    options.app = app;
    return std::make_unique<fcm::Provider>(std::move(executor), *settings.fcm, std::move(account), options);
  }
  if (platform == job::Platform::web && cfg.web.enabled) {
    return std::make_unique<web::Provider>(std::move(executor), app, cfg.web,
                                           redis::client_config(cfg, "pushgw-web-publish"), cfg.redis.prefix);
  }
  return nullptr;
}

}  // namespace pushgw::app
