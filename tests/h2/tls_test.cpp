// h2/tls: the context every connection of a pool shares (no sockets: what it loads and how it
// reports what is wrong).
#include "pushgw/h2/tls.hpp"

#include <gtest/gtest.h>

#include <boost/asio/ssl.hpp>
#include <openssl/ssl.h>

#include "sim/tls_fixture.hpp"

namespace pushgw::h2 {
namespace {

// What apns::ClientCertificate::use_in does, with the test PKI's files.
std::function<void(SSL_CTX*)> install(const std::string& cert_file, const std::string& key_file, bool* installed) {
  return [cert_file, key_file, installed](SSL_CTX* context) {
    *installed = true;
    if (SSL_CTX_use_certificate_chain_file(context, cert_file.c_str()) != 1 ||
        SSL_CTX_use_PrivateKey_file(context, key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
      throw std::runtime_error("cannot load " + cert_file);
    }
  };
}

TEST(MakeTlsContext, OffersTls12OrLaterAndVerifiesThePeerByDefault) {
  std::string error;
  auto context = make_tls_context(ConnectionConfig{}, &error);
  ASSERT_NE(context, nullptr) << error;
  EXPECT_EQ(SSL_CTX_get_min_proto_version(context->native_handle()), TLS1_2_VERSION);
  EXPECT_EQ(SSL_CTX_get_verify_mode(context->native_handle()) & SSL_VERIFY_PEER, SSL_VERIFY_PEER);
}

TEST(MakeTlsContext, InstallsALoadedClientCertificateAndReportsItsFailure) {
  testing::TestPki pki;
  std::string error;
  bool installed = false;
  ConnectionConfig loaded;
  loaded.install_client_certificate = install(pki.client_cert_file, pki.client_key_file, &installed);
  EXPECT_NE(make_tls_context(loaded, &error), nullptr) << error;
  EXPECT_TRUE(installed);

  ConnectionConfig refused;
  refused.install_client_certificate = [](SSL_CTX*) { throw std::runtime_error("certificate expired"); };
  EXPECT_EQ(make_tls_context(refused, &error), nullptr);
  EXPECT_EQ(error, "client certificate: certificate expired");

  ConnectionConfig mismatched;  // the server's key, not the client's: refused before any connection
  mismatched.install_client_certificate = [&](SSL_CTX* context) {
    SSL_CTX_use_certificate_chain_file(context, pki.client_cert_file.c_str());
    SSL_CTX_use_PrivateKey_file(context, pki.key_file.c_str(), SSL_FILETYPE_PEM);
  };
  EXPECT_EQ(make_tls_context(mismatched, &error), nullptr);
  EXPECT_NE(error.find("does not match"), std::string::npos) << error;
}

TEST(MakeTlsContext, NamesTheCaFileThatIsWrong) {
  testing::TestPki pki;
  std::string error;
  ConnectionConfig missing_ca;
  missing_ca.ca_file = pki.dir + "/nope.pem";
  EXPECT_EQ(make_tls_context(missing_ca, &error), nullptr);
  EXPECT_NE(error.find("ca_file " + pki.dir + "/nope.pem"), std::string::npos) << error;
}

}  // namespace
}  // namespace pushgw::h2
