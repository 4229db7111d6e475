#pragma once
// Test key material made at run time (no private key is committed): a self-signed TLS
// certificate for localhost/127.0.0.1, an APNs-style .p8 key (EC P-256, PKCS#8 PEM), a Google
// service-account JSON with an RSA key, and JWT signers (ES256, RS256). Shared by tests/sim
// and tests/h2.

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

// RSA key generation is slow, so one key serves every TestPki of the process.
inline const std::string& shared_rsa_key_pem() {
  static const std::string pem = [] {
    EVP_PKEY* key = EVP_RSA_gen(2048);
    std::string text = private_key_pem(key);
    EVP_PKEY_free(key);
    return text;
  }();
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
  std::string fcm_service_account_file;  // service-account JSON (RSA key)
  std::string fcm_key_pem;
  std::string fcm_client_email = "pushgw@demo-project.iam.gserviceaccount.com";
  std::string fcm_project_id = "demo-project";

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
    fcm_service_account_file = dir + "/service-account.json";

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

    fcm_key_pem = shared_rsa_key_pem();
    std::string escaped_key;
    for (const char c : fcm_key_pem) {
      if (c == '\n') escaped_key += "\\n";
      else escaped_key += c;
    }
    write_text_file(fcm_service_account_file,
                    "{\"type\": \"service_account\", \"project_id\": \"" + fcm_project_id +
                        "\", \"private_key_id\": \"k1\", \"private_key\": \"" + escaped_key +
                        "\", \"client_email\": \"" + fcm_client_email +
                        "\", \"token_uri\": \"https://127.0.0.1/token\"}");

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

// A JWT signed with `key_pem`: ES256 for an EC key (signature as r || s), RS256 for RSA.
inline std::string sign_jwt(const std::string& key_pem, const std::string& header,
                            const std::string& claims) {
  const std::string signing_input = base64url(header) + "." + base64url(claims);
  BIO* bio = BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size()));
  EVP_PKEY* key = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (!key) throw std::runtime_error("bad test key");
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  std::size_t size = 0;
  const auto* input = reinterpret_cast<const unsigned char*>(signing_input.data());
  EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key);
  EVP_DigestSign(ctx, nullptr, &size, input, signing_input.size());
  std::string signature(size, '\0');
  EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(signature.data()), &size, input,
                 signing_input.size());
  signature.resize(size);
  EVP_MD_CTX_free(ctx);
  const bool ec = EVP_PKEY_get_base_id(key) == EVP_PKEY_EC;
  EVP_PKEY_free(key);
  if (ec) {  // DER → r || s
    const auto* p = reinterpret_cast<const unsigned char*>(signature.data());
    ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(signature.size()));
    unsigned char raw[64];
    BN_bn2binpad(ECDSA_SIG_get0_r(sig), raw, 32);
    BN_bn2binpad(ECDSA_SIG_get0_s(sig), raw + 32, 32);
    ECDSA_SIG_free(sig);
    signature.assign(reinterpret_cast<char*>(raw), 64);
  }
  return signing_input + "." + base64url(signature);
}

// An APNs provider token: ES256 JWT {"alg":"ES256","kid":kid}.{"iss":team,"iat":iat}.
inline std::string sign_provider_token(const std::string& key_pem, const std::string& kid,
                                       const std::string& team, std::int64_t iat) {
  return sign_jwt(key_pem, R"({"alg":"ES256","kid":")" + kid + "\"}",
                  R"({"iss":")" + team + R"(","iat":)" + std::to_string(iat) + "}");
}

// A Google OAuth JWT-bearer assertion for the FCM scope, RS256-signed.
inline std::string sign_oauth_assertion(const TestPki& pki, std::int64_t iat,
                                        const std::string& aud = "https://127.0.0.1/token",
                                        const std::string& scope =
                                            "https://www.googleapis.com/auth/firebase.messaging") {
  return sign_jwt(pki.fcm_key_pem, R"({"alg":"RS256","typ":"JWT","kid":"k1"})",
                  R"({"iss":")" + pki.fcm_client_email + R"(","scope":")" + scope +
                      R"(","aud":")" + aud + R"(","iat":)" + std::to_string(iat) +
                      R"(,"exp":)" + std::to_string(iat + 3600) + "}");
}

inline std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace pushgw::testing
