#include "pushgw/sim/cli.hpp"

#include <charconv>

#include <CLI/CLI.hpp>

namespace pushgw::sim {

bool parse_listen(const std::string& text, std::string* host, std::uint16_t* port,
                  std::string* error) {
  std::string_view rest = text;
  std::string_view host_part;
  if (!rest.empty() && rest.front() == '[') {
    const auto close = rest.find("]:");
    if (close == std::string_view::npos) {
      *error = "--listen: expected [IPv6]:PORT, got \"" + text + "\"";
      return false;
    }
    host_part = rest.substr(1, close - 1);
    rest.remove_prefix(close + 2);
  } else {
    const auto colon = rest.rfind(':');
    if (colon == std::string_view::npos) {
      *error = "--listen: expected HOST:PORT, got \"" + text + "\"";
      return false;
    }
    host_part = rest.substr(0, colon);
    rest.remove_prefix(colon + 1);
  }
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), value);
  if (host_part.empty() || rest.empty() || ec != std::errc() || end != rest.data() + rest.size() ||
      value > 65535) {
    *error = "--listen: expected HOST:PORT with a port 0-65535, got \"" + text + "\"";
    return false;
  }
  *host = std::string(host_part);
  *port = static_cast<std::uint16_t>(value);
  return true;
}

CommandLine parse_command_line(int argc, const char* const* argv) {
  ServerOptions options;
  std::string listen;
  CLI::App app{"pushgw-sim: APNs, FCM and OAuth simulator (HTTP/2 over TLS) for pushgw's tests, "
               "demos and benchmarks. Control it with GET /sim/stats, POST /sim/reset, "
               "GET|POST /sim/config."};
  app.add_option("--listen", listen, "HOST:PORT to listen on (port 0 = any free port)")->required();
  app.add_option("--cert", options.cert_file, "TLS certificate (PEM)")->required();
  app.add_option("--key", options.key_file, "TLS private key (PEM)")->required();
  app.add_option("--apns-key", options.apns_key_file,
                 "APNs .p8 key: provider tokens must be ES256-signed with it");
  app.add_option("--apns-key-id", options.apns_key_id, "when set, tokens' kid must match");
  app.add_option("--apns-team-id", options.apns_team_id, "when set, tokens' iss must match");
  app.add_option("--fcm-service-account", options.fcm_service_account_file,
                 "Google service-account JSON: enables FCM v1 and the OAuth token endpoint");
  BehaviourValues& b = options.behaviour;
  app.add_option("--max-streams", b.max_streams,
                 "SETTINGS_MAX_CONCURRENT_STREAMS after the first authorised request")
      ->capture_default_str();
  bool no_ramp = false;
  app.add_flag("--no-stream-ramp", no_ramp,
               "advertise --max-streams from the start (APNs starts at 1)");
  app.add_option("--latency-ms", b.latency_ms, "delay before every response")
      ->check(CLI::Range(0, 600000));
  app.add_option("--goaway-after", b.goaway_after, "GOAWAY after N requests on a connection");
  app.add_option("--drop-after", b.drop_after, "drop the TCP connection at the Nth request");
  app.add_option("--error-rate", b.error_rate, "fraction of requests answered 503")
      ->check(CLI::Range(0.0, 1.0));
  app.add_flag("--no-auth", b.no_auth, "accept requests without a valid provider token (h2load)");
  app.add_option("--threads", options.threads, "server threads")
      ->check(CLI::Range(1u, 64u))
      ->capture_default_str();

  CommandLine result;
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    result.exit_code = e.get_exit_code();
    result.message = e.get_exit_code() == 0 ? app.help() : std::string(e.what()) + "\n" +
                                                                 "Run with --help for usage.\n";
    return result;
  }
  b.stream_ramp = !no_ramp;
  std::string error;
  if (!parse_listen(listen, &options.listen_host, &options.listen_port, &error)) {
    result.exit_code = 2;
    result.message = error + "\n";
    return result;
  }
  if (options.apns_key_file.empty() && !b.no_auth) {
    result.exit_code = 2;
    result.message = "--apns-key is required (or --no-auth to accept any provider token)\n";
    return result;
  }
  result.options = std::move(options);
  return result;
}

}  // namespace pushgw::sim
