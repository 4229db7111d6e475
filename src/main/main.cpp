// pushgw's command line: run the daemon, check a config file.

#include <CLI/CLI.hpp>

#include <iostream>

#include "pushgw/app/app.hpp"
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

  CLI11_PARSE(cli, argc, argv);

  if (*check) return pushgw::app::check_config(check_file);

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
