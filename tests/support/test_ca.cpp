#include "support/test_ca.hpp"

#include <fstream>
#include <stdexcept>

#include "support/process.hpp"

namespace pushgw::test {

namespace {

void run(const std::string& command) {
  const CommandResult result = run_command(command);
  if (result.exit_code != 0) {
    throw std::runtime_error("make_test_ca: `" + command + "` failed (" + std::to_string(result.exit_code) +
                             "):\n" + result.output);
  }
}

// EC P-256 keys: quick to make, and Redis and OpenSSL 3 accept them.
constexpr const char* kNewKey = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";

// A key and a certificate for `subject` signed by the CA, with the given v3 extensions.
void issue(const std::filesystem::path& dir, const std::string& stem, const std::string& subject,
           const std::string& extensions, const std::string& ca_cert, const std::string& ca_key) {
  const std::string base = (dir / stem).string();
  std::ofstream(base + ".ext") << extensions << "\n";
  run("openssl req " + std::string(kNewKey) + " -keyout '" + base + ".key' -out '" + base + ".csr' -subj '" +
      subject + "'");
  run("openssl x509 -req -in '" + base + ".csr' -CA '" + ca_cert + "' -CAkey '" + ca_key +
      "' -CAcreateserial -days 2 -out '" + base + ".pem' -extfile '" + base + ".ext'");
}

}  // namespace

TestCa make_test_ca(const std::filesystem::path& dir, const std::string& name) {
  const std::string ca = (dir / (name + "-ca")).string();
  run("openssl req -x509 " + std::string(kNewKey) + " -keyout '" + ca + ".key' -out '" + ca +
      ".pem' -days 2 -subj '/CN=pushgw " + name + " test CA'");
  issue(dir, name + "-server", "/CN=localhost",
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth", ca + ".pem", ca + ".key");
  issue(dir, name + "-client", "/CN=pushgw-client", "extendedKeyUsage=clientAuth", ca + ".pem", ca + ".key");
  const std::string base = (dir / name).string();
  return TestCa{ca + ".pem", base + "-server.pem", base + "-server.key", base + "-client.pem",
                base + "-client.key"};
}

}  // namespace pushgw::test
