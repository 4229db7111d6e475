#pragma once
// A throw-away certificate authority for TLS tests, made with the `openssl` command (Debian's
// openssl package): a CA, a server certificate for localhost and 127.0.0.1 signed by it, and a
// client certificate signed by it. Nothing is committed: each test makes its own.

#include <filesystem>
#include <string>

namespace pushgw::test {

struct TestCa {
  std::string ca_file;            // the CA's certificate (PEM)
  std::string server_cert_file;   // CN=localhost, SAN DNS:localhost, IP:127.0.0.1
  std::string server_key_file;
  std::string client_cert_file;   // CN=pushgw-client, extendedKeyUsage clientAuth
  std::string client_key_file;
};

// Makes the CA and its certificates in `dir` (file names prefixed with `name`). Throws
// std::runtime_error with openssl's output when a step fails.
TestCa make_test_ca(const std::filesystem::path& dir, const std::string& name = "test");

}  // namespace pushgw::test
