#pragma once
// Test key material made at run time (no private key is committed): a self-signed TLS
// certificate for localhost/127.0.0.1, an APNs-style .p8 key (EC P-256, PKCS#8 PEM), and an
// ES256 provider-token signer. Shared by tests/sim and tests/h2.

#include <gtest/gtest.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdlib.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

namespace pushgw::testing {

inline std::string base64url(std::string_view data) {
  static constexpr char table[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < data.size(); i += 3) {
    const unsigned v = (static_cast<unsigned char>(data[i]) << 16) |
                       (static_cast<unsigned char>(data[i + 1]) << 8) |
                       static_cast<unsigned char>(data[i + 2]);
    out += table[(v >> 18) & 63];
    out += table[(v >> 12) & 63];
    out += table[(v >> 6) & 63];
    out += table[v & 63];
  }
  if (i + 1 == data.size()) {
    const unsigned v = static_cast<unsigned char>(data[i]) << 16;
    out += table[(v >> 18) & 63];
    out += table[(v >> 12) & 63];
  } else if (i + 2 == data.size()) {
    const unsigned v = (static_cast<unsigned char>(data[i]) << 16) |
                       (static_cast<unsigned char>(data[i + 1]) << 8);
    out += table[(v >> 18) & 63];
    out += table[(v >> 12) & 63];
    out += table[(v >> 6) & 63];
  }
  return out;
}

inline std::string read_text_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

inline void write_text_file(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + path);
}

// A private key as PKCS#8 PEM ("BEGIN PRIVATE KEY"), the format of Apple's .p8 files.
inline std::string private_key_pem(EVP_PKEY* key) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<std::size_t>(size));
  BIO_free(bio);
  return pem;
}

// A self-signed certificate for `cn` with the given subjectAltName, as PEM.
inline std::string self_signed_cert_pem(EVP_PKEY* key, const std::string& cn,
                                        const std::string& san) {
  X509* cert = X509_new();
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), static_cast<long>(std::rand() % 100000 + 1));
  X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert), 7 * 24 * 3600);
  X509_set_pubkey(cert, key);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509_set_issuer_name(cert, name);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  for (const auto& [nid, value] : {std::pair{NID_subject_alt_name, san},
                                   std::pair{NID_basic_constraints, std::string("critical,CA:TRUE")}}) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
    X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
  }
  X509_sign(cert, key, EVP_sha256());
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(bio, cert);
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<std::size_t>(size));
  BIO_free(bio);
  X509_free(cert);
  return pem;
}

// Key files in a temporary directory, removed again by the destructor.
struct TestPki {
  std::string dir;
  std::string cert_file;        // TLS server certificate, self-signed, localhost + 127.0.0.1
  std::string key_file;         // its key
  std::string other_cert_file;  // an unrelated self-signed certificate for other.test
  std::string other_key_file;
  std::string apns_key_file;    // .p8
  std::string apns_key_pem;
  std::string client_cert_file; // a client certificate and key (for client-cert tests)
  std::string client_key_file;

  TestPki() {
    char pattern[] = "/tmp/pushgw-tls-XXXXXX";
    if (!mkdtemp(pattern)) throw std::runtime_error("mkdtemp failed");
    dir = pattern;
    cert_file = dir + "/server.pem";
    key_file = dir + "/server.key";
    other_cert_file = dir + "/other.pem";
    other_key_file = dir + "/other.key";
    apns_key_file = dir + "/AuthKey_TEST123456.p8";
    client_cert_file = dir + "/client.pem";
    client_key_file = dir + "/client.key";

    EVP_PKEY* server_key = EVP_EC_gen("P-256");
    write_text_file(key_file, private_key_pem(server_key));
    write_text_file(cert_file,
                    self_signed_cert_pem(server_key, "localhost", "DNS:localhost,IP:127.0.0.1"));
    EVP_PKEY_free(server_key);

    EVP_PKEY* other_key = EVP_EC_gen("P-256");
    write_text_file(other_key_file, private_key_pem(other_key));
    write_text_file(other_cert_file, self_signed_cert_pem(other_key, "other", "DNS:other.test"));
    EVP_PKEY_free(other_key);

    EVP_PKEY* client_key = EVP_EC_gen("P-256");
    write_text_file(client_key_file, private_key_pem(client_key));
    write_text_file(client_cert_file, self_signed_cert_pem(client_key, "client", "DNS:client.test"));
    EVP_PKEY_free(client_key);

    EVP_PKEY* apns_key = EVP_EC_gen("P-256");
    apns_key_pem = private_key_pem(apns_key);
    write_text_file(apns_key_file, apns_key_pem);
    EVP_PKEY_free(apns_key);
  }
  ~TestPki() {
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
  }
  TestPki(const TestPki&) = delete;
  TestPki& operator=(const TestPki&) = delete;
};

// An APNs provider token: ES256 JWT {"alg":"ES256","kid":kid}.{"iss":team,"iat":iat}.
inline std::string sign_provider_token(const std::string& key_pem, const std::string& kid,
                                       const std::string& team, std::int64_t iat) {
  const std::string header = R"({"alg":"ES256","kid":")" + kid + "\"}";
  const std::string claims = R"({"iss":")" + team + R"(","iat":)" + std::to_string(iat) + "}";
  const std::string signing_input = base64url(header) + "." + base64url(claims);

  BIO* bio = BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size()));
  EVP_PKEY* key = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (!key) throw std::runtime_error("bad test key");
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  std::size_t der_size = 0;
  EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key);
  EVP_DigestSign(ctx, nullptr, &der_size,
                 reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size());
  std::string der(der_size, '\0');
  EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(der.data()), &der_size,
                 reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size());
  EVP_MD_CTX_free(ctx);
  EVP_PKEY_free(key);

  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der_size));
  unsigned char raw[64];
  BN_bn2binpad(ECDSA_SIG_get0_r(sig), raw, 32);
  BN_bn2binpad(ECDSA_SIG_get0_s(sig), raw + 32, 32);
  ECDSA_SIG_free(sig);
  return signing_input + "." + base64url(std::string_view(reinterpret_cast<char*>(raw), 64));
}

inline std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace pushgw::testing
