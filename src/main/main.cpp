// pushgw's command line: run the daemon, check a config file, send one notification, manage dead letters
// and APNs broadcast channels.

#include <CLI/CLI.hpp>

#include <iostream>

#include "pushgw/app/app.hpp"
#include "pushgw/app/channels_command.hpp"
#include "pushgw/app/dlq_command.hpp"
#include "pushgw/config/config.hpp"

#ifndef PUSHGW_VERSION
#define PUSHGW_VERSION "dev"
#endif

int main(int argc, char** argv) {
  CLI::App cli{"pushgw: push notification gateway for APNs and FCM", "pushgw"};
  cli.set_version_flag("--version", PUSHGW_VERSION);
  std::string config_file;
  cli.add_option("-c,--config", config_file, "config file (YAML) to run the daemon with");

  auto* check = cli.add_subcommand("check-config", "validate a config file and exit");
  std::string check_file;
  check->add_option("file", check_file, "config file (YAML)")->required();

  auto* send = cli.add_subcommand("send", "send one notification straight to the provider and print the outcome");
  pushgw::app::SendOptions send_options;
  std::string send_config;
  send->add_option("-c,--config", send_config, "config file (YAML) naming the app's credentials")->required();
  send->add_option("--app", send_options.app, "app (a key of apps:); optional with one app");
  send->add_option("--platform", send_options.platform, "ios or android")->capture_default_str();
  send->add_option("--token", send_options.token, "device token")->required();
  send->add_option("--title", send_options.title, "alert title");
  send->add_option("--message", send_options.message, "alert body");
  send->add_option("--sound", send_options.sound, "sound name");
  std::int64_t badge = 0;
  auto* badge_option = send->add_option("--badge", badge, "badge number");
  send->add_option("--topic", send_options.topic, "apns-topic (default: the app's topic)");
  send->add_option("--push-type", send_options.push_type, "apns-push-type (default: alert)");
  send->add_option("--data", send_options.data, "custom data, a JSON object");

  auto* dlq = cli.add_subcommand("dlq", "look at, replay or purge dead letters");
  pushgw::app::DlqOptions dlq_options;
  std::string dlq_config;
  dlq->add_option("action", dlq_options.action, "list, replay or purge")->required();
  dlq->add_option("-c,--config", dlq_config, "config file (YAML) naming Redis")->required();
  dlq->add_option("--lane", dlq_options.lane, "high, default or bulk (default: every lane)");
  dlq->add_option("--reason", dlq_options.reason,
                  "malformed, invalid, rejected, retries_exhausted, redelivered or expired (default: every reason)");
  dlq->add_option("--limit", dlq_options.limit, "at most this many per lane, oldest first (default: all)");
  dlq->add_flag("--dry-run", dlq_options.dry_run, "replay, purge: print what would be done, change nothing");
  dlq->add_flag("--json", dlq_options.json, "list: the entries as JSON lines");

  auto* channels = cli.add_subcommand("channels", "create, list, show or delete APNs broadcast channels (Live Activities)");
  pushgw::app::ChannelsOptions channels_options;
  std::string channels_config;
  channels->add_option("action", channels_options.action, "create, list, show or delete")->required();
  channels->add_option("-c,--config", channels_config, "config file (YAML) naming the app's APNs credentials")->required();
  channels->add_option("--app", channels_options.app, "app (a key of apps:); optional with one app");
  channels->add_option("--channel", channels_options.channel, "show, delete: the channel id");
  channels->add_option("--storage-policy", channels_options.storage_policy,
                       "create: 0 = no message stored (frequent updates), 1 = the most recent message stored")
      ->capture_default_str();

  CLI11_PARSE(cli, argc, argv);

  if (*check) return pushgw::app::check_config(check_file);
  // A command's config file, or its problems printed and exit code 2.
  const auto run_with_config = [](const std::string& file, const auto& command) {
    auto loaded = pushgw::config::load_config(file);
    if (!loaded.config) {
      for (const auto& error : loaded.errors) std::cerr << pushgw::config::format_error(file, error) << "\n";
      return 2;
    }
    return command(*loaded.config);
  };
  if (*dlq) {
    return run_with_config(dlq_config, [&](const pushgw::config::Config& config) {
      return pushgw::app::dlq(config, dlq_options, std::cout, std::cerr);
    });
  }
  if (*channels) {
    return run_with_config(channels_config, [&](const pushgw::config::Config& config) {
      return pushgw::app::channels(config, channels_options, std::cout, std::cerr);
    });
  }
  if (*send) {
    if (badge_option->count() > 0) send_options.badge = badge;
    return run_with_config(send_config, [&](const pushgw::config::Config& config) {
      return pushgw::app::send_one(config, send_options);
    });
  }

  if (config_file.empty()) {
    std::cerr << "pushgw: --config FILE is required to run the daemon (see --help)\n";
    return 2;
  }
  auto loaded = pushgw::config::load_config(config_file);
  if (!loaded.config) {
    for (const auto& error : loaded.errors) {
      std::cerr << pushgw::config::format_error(config_file, error) << "\n";
    }
    std::cerr << "pushgw: " << loaded.errors.size() << " problem(s) in " << config_file
              << "; not starting\n";
    return 1;
  }
  return pushgw::app::run_daemon(*loaded.config);
}
