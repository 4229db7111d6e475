#include "pushgw/sim/cli.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace pushgw::sim {
namespace {

CommandLine parse(std::vector<const char*> args) {
  args.insert(args.begin(), "pushgw-sim");
  return parse_command_line(static_cast<int>(args.size()), args.data());
}

TEST(SimCommandLine, ParsesEveryOption) {
  const auto result = parse({"--listen", "127.0.0.1:2197", "--cert", "c.pem", "--key", "k.pem",
                             "--fcm-service-account", "sa.json",
                             "--apns-key", "a.p8", "--apns-key-id", "KID", "--apns-team-id", "TEAM",
                             "--max-streams", "500", "--no-stream-ramp", "--latency-ms", "5",
                             "--goaway-after", "100", "--drop-after", "7", "--error-rate", "0.1",
                             "--threads", "2"});
  ASSERT_TRUE(result.options) << result.message;
  const ServerOptions& o = *result.options;
  EXPECT_EQ(o.listen_host, "127.0.0.1");
  EXPECT_EQ(o.listen_port, 2197);
  EXPECT_EQ(o.cert_file, "c.pem");
  EXPECT_EQ(o.key_file, "k.pem");
  EXPECT_EQ(o.apns_key_file, "a.p8");
  EXPECT_EQ(o.apns_key_id, "KID");
  EXPECT_EQ(o.apns_team_id, "TEAM");
  EXPECT_EQ(o.fcm_service_account_file, "sa.json");
  EXPECT_EQ(o.threads, 2u);
  EXPECT_EQ(o.behaviour.max_streams, 500u);
  EXPECT_FALSE(o.behaviour.stream_ramp);
  EXPECT_EQ(o.behaviour.latency_ms, 5u);
  EXPECT_EQ(o.behaviour.goaway_after, 100u);
  EXPECT_EQ(o.behaviour.drop_after, 7u);
  EXPECT_DOUBLE_EQ(o.behaviour.error_rate, 0.1);
  EXPECT_FALSE(o.behaviour.no_auth);
}

TEST(SimCommandLine, DefaultsMatchApns) {
  const auto result = parse({"--listen", "0.0.0.0:0", "--cert", "c", "--key", "k", "--no-auth"});
  ASSERT_TRUE(result.options) << result.message;
  EXPECT_TRUE(result.options->behaviour.stream_ramp);
  EXPECT_EQ(result.options->behaviour.max_streams, 1000u);
  EXPECT_TRUE(result.options->behaviour.no_auth);
  EXPECT_EQ(result.options->threads, 1u);
}

TEST(SimCommandLine, ExplainsWhatIsWrong) {
  const auto missing_key = parse({"--listen", "127.0.0.1:1", "--cert", "c", "--key", "k"});
  EXPECT_FALSE(missing_key.options);
  EXPECT_NE(missing_key.exit_code, 0);
  EXPECT_NE(missing_key.message.find("--apns-key is required"), std::string::npos);

  const auto bad_listen = parse({"--listen", "127.0.0.1", "--cert", "c", "--key", "k", "--no-auth"});
  EXPECT_FALSE(bad_listen.options);
  EXPECT_NE(bad_listen.message.find("--listen: expected HOST:PORT"), std::string::npos);

  const auto bad_rate = parse({"--listen", "127.0.0.1:1", "--cert", "c", "--key", "k",
                               "--no-auth", "--error-rate", "2"});
  EXPECT_FALSE(bad_rate.options);
  EXPECT_NE(bad_rate.message.find("--error-rate"), std::string::npos) << bad_rate.message;

  const auto no_cert = parse({"--listen", "127.0.0.1:1", "--no-auth"});
  EXPECT_FALSE(no_cert.options);
  EXPECT_NE(no_cert.message.find("--cert"), std::string::npos) << no_cert.message;
}

TEST(SimCommandLine, HelpExitsZero) {
  const auto help = parse({"--help"});
  EXPECT_FALSE(help.options);
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.message.find("--goaway-after"), std::string::npos);
}

TEST(SimParseListen, HostsAndPorts) {
  std::string host, error;
  std::uint16_t port = 1;
  ASSERT_TRUE(parse_listen("[::1]:8443", &host, &port, &error)) << error;
  EXPECT_EQ(host, "::1");
  EXPECT_EQ(port, 8443);
  ASSERT_TRUE(parse_listen("0.0.0.0:0", &host, &port, &error)) << error;
  EXPECT_EQ(port, 0);
  EXPECT_FALSE(parse_listen(":80", &host, &port, &error));
  EXPECT_FALSE(parse_listen("host:99999", &host, &port, &error));
  EXPECT_FALSE(parse_listen("[::1]8443", &host, &port, &error));
}

}  // namespace
}  // namespace pushgw::sim
