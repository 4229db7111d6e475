#include "pushgw/apns/credentials.hpp"

#include <array>
#include <cstdio>
#include <ctime>
#include <mutex>

#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/provider.h>
#include <openssl/ssl.h>

#include "pushgw/common/openssl.hpp"
#include "pushgw/apns/error.hpp"

namespace pushgw::apns {

namespace openssl = common::openssl;
namespace {

using Type = config::ApnsAuthConfig::Type;
using std::chrono::system_clock;

[[noreturn]] void fail(error code, std::string_view label, std::string_view what) {
  throw CredentialsError(code, std::string(label) + ": " + std::string(what));
}

std::shared_ptr<X509> own(X509* certificate) { return {certificate, openssl::X509Free{}}; }
std::shared_ptr<EVP_PKEY> own(EVP_PKEY* key) { return {key, openssl::PkeyFree{}}; }

std::string read_file_or_fail(const std::string& path, std::string_view label, std::string_view what) {
  std::string os_error;
  auto content = openssl::read_whole_file(path, &os_error);
  if (!content) fail(error::file_unreadable, label, "cannot read the " + std::string(what) + ": " + os_error);
  return std::move(*content);
}

bool looks_like_pem(const std::string& content) { return content.find("-----BEGIN ") != std::string::npos; }

// Every certificate in a PEM text, leaf first.
std::vector<std::shared_ptr<X509>> read_pem_certificates(const std::string& pem, std::string_view label) {
  std::vector<std::shared_ptr<X509>> certificates;
  if (pem.find("-----BEGIN CERTIFICATE-----") == std::string::npos) {
    fail(error::invalid_certificate, label,
         "no PEM certificate found (expected a \"-----BEGIN CERTIFICATE-----\" block)");
  }
  auto bio = openssl::memory_bio(pem);
  while (X509* certificate = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    certificates.push_back(own(certificate));
  }
  if (certificates.empty()) {
    fail(error::invalid_certificate, label, "not a valid X.509 certificate (" + openssl::take_openssl_error() + ")");
  }
  ERR_clear_error();  // the loop ends on "no start line": not an error
  return certificates;
}

std::shared_ptr<EVP_PKEY> read_pem_private_key(const std::string& pem, const std::string& password,
                                               std::string_view label) {
  const bool encrypted = pem.find("-----BEGIN ENCRYPTED PRIVATE KEY-----") != std::string::npos ||
                         pem.find("Proc-Type: 4,ENCRYPTED") != std::string::npos;
  if (encrypted && password.empty()) {
    fail(error::encrypted_key, label, "the private key is encrypted; set cert_password");
  }
  if (pem.find("PRIVATE KEY-----") == std::string::npos) {
    fail(error::not_a_pem_private_key, label,
         "not a PEM private key (expected a \"-----BEGIN PRIVATE KEY-----\" block)");
  }
  auto bio = openssl::memory_bio(pem);
  void* password_arg = password.empty() ? nullptr : const_cast<std::string*>(&password);
  EVP_PKEY* key = PEM_read_bio_PrivateKey_ex(bio.get(), nullptr, &openssl::password_callback,
                                             password_arg, nullptr, nullptr);
  if (key == nullptr) {
    const std::string reason = openssl::take_openssl_error();
    if (encrypted) fail(error::encrypted_key, label, "cannot decrypt the private key (wrong cert_password?): " + reason);
    fail(error::not_a_pem_private_key, label, "not a PEM private key (" + reason + ")");
  }
  ERR_clear_error();
  return own(key);
}

// Keychain exports PKCS#12 with RC2/3DES, which OpenSSL 3 keeps in its "legacy" provider.
// Loaded once, next to the default provider (loading any provider explicitly stops OpenSSL
// from loading the default one implicitly).
bool load_legacy_provider() {
  static std::once_flag once;
  static bool loaded = false;
  std::call_once(once, [] {
    loaded = OSSL_PROVIDER_load(nullptr, "legacy") != nullptr &&
             OSSL_PROVIDER_load(nullptr, "default") != nullptr;
    ERR_clear_error();
  });
  return loaded;
}

struct Pkcs12Contents {
  std::shared_ptr<EVP_PKEY> key;
  std::shared_ptr<X509> certificate;
  std::vector<std::shared_ptr<X509>> chain;
};

Pkcs12Contents read_pkcs12(const std::string& der, const std::string& password, std::string_view label) {
  auto parse = [&](std::string* failure) -> std::optional<Pkcs12Contents> {
    auto bio = openssl::memory_bio(der);
    PKCS12* p12 = d2i_PKCS12_bio(bio.get(), nullptr);
    if (p12 == nullptr) {
      fail(error::invalid_pkcs12, label,
           "neither PEM nor PKCS#12 (" + openssl::take_openssl_error() + ")");
    }
    EVP_PKEY* key = nullptr;
    X509* certificate = nullptr;
    STACK_OF(X509)* extra = nullptr;
    const int ok = PKCS12_parse(p12, password.c_str(), &key, &certificate, &extra);
    PKCS12_free(p12);
    if (ok != 1) {
      const unsigned long code = ERR_peek_last_error();
      *failure = ERR_GET_REASON(code) == PKCS12_R_MAC_VERIFY_FAILURE
                     ? "wrong cert_password (PKCS#12 MAC verification failed)"
                     : "cannot read the PKCS#12 contents (" + openssl::take_openssl_error() + ")";
      ERR_clear_error();
      return std::nullopt;
    }
    Pkcs12Contents contents;
    if (key != nullptr) contents.key = own(key);
    if (certificate != nullptr) contents.certificate = own(certificate);
    while (extra != nullptr && sk_X509_num(extra) > 0) contents.chain.push_back(own(sk_X509_shift(extra)));
    sk_X509_free(extra);
    return contents;
  };

  std::string failure;
  auto contents = parse(&failure);
  if (!contents && !failure.starts_with("wrong") && load_legacy_provider()) contents = parse(&failure);
  if (!contents) fail(error::invalid_pkcs12, label, failure);
  if (!contents->certificate) fail(error::invalid_pkcs12, label, "the PKCS#12 file holds no certificate");
  if (!contents->key) fail(error::invalid_pkcs12, label, "the PKCS#12 file holds no private key");
  return std::move(*contents);
}

ClientCertificate load_pair(const std::string& cert_file, const std::string& key_file,
                            const std::string& password, std::string_view cert_label,
                            std::string_view key_label) {
  auto certificates = read_pem_certificates(
      read_file_or_fail(cert_file, cert_label, "certificate file"), cert_label);
  auto key = read_pem_private_key(read_file_or_fail(key_file, key_label, "private key file"),
                                  password, key_label);
  auto leaf = certificates.front();
  certificates.erase(certificates.begin());
  return ClientCertificate(std::move(leaf), std::move(key), std::move(certificates),
                           std::string(cert_label) + " and " + std::string(key_label));
}

ClientCertificate load_bundle(const std::string& file, const std::string& password, std::string_view label) {
  const std::string content = read_file_or_fail(file, label, "certificate file");
  if (looks_like_pem(content)) {
    auto certificates = read_pem_certificates(content, label);
    auto key = read_pem_private_key(content, password, label);
    auto leaf = certificates.front();
    certificates.erase(certificates.begin());
    return ClientCertificate(std::move(leaf), std::move(key), std::move(certificates), std::string(label));
  }
  auto contents = read_pkcs12(content, password, label);
  return ClientCertificate(std::move(contents.certificate), std::move(contents.key),
                           std::move(contents.chain), std::string(label));
}

system_clock::time_point to_time_point(const ASN1_TIME* time) {
  std::tm parts{};
  if (time == nullptr || ASN1_TIME_to_tm(time, &parts) != 1) return {};
  const std::chrono::year_month_day date{std::chrono::year(parts.tm_year + 1900),
                                         std::chrono::month(static_cast<unsigned>(parts.tm_mon + 1)),
                                         std::chrono::day(static_cast<unsigned>(parts.tm_mday))};
  return std::chrono::sys_days(date) + std::chrono::hours(parts.tm_hour) +
         std::chrono::minutes(parts.tm_min) + std::chrono::seconds(parts.tm_sec);
}

std::string one_line_subject(X509* certificate) {
  openssl::BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || X509_NAME_print_ex(bio.get(), X509_get_subject_name(certificate), 0, XN_FLAG_RFC2253) < 0) {
    ERR_clear_error();
    return "(unprintable subject)";
  }
  char* data = nullptr;
  const long length = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(length));
}

void require(const std::string& value, std::string_view config_path, std::string_view key,
             std::string_view auth_type) {
  if (value.empty()) {
    fail(error::missing_setting, std::string(config_path) + "." + std::string(key),
         "required for auth type " + std::string(auth_type));
  }
}

}  // namespace

ClientCertificate::ClientCertificate(std::shared_ptr<X509> certificate, std::shared_ptr<EVP_PKEY> key,
                                     std::vector<std::shared_ptr<X509>> chain, const std::string& source)
    : certificate_(std::move(certificate)), key_(std::move(key)), chain_(std::move(chain)) {
  if (X509_check_private_key(certificate_.get(), key_.get()) != 1) {
    ERR_clear_error();
    fail(error::certificate_key_mismatch, source, "the private key does not belong to the certificate");
  }
  not_before_ = to_time_point(X509_get0_notBefore(certificate_.get()));
  not_after_ = to_time_point(X509_get0_notAfter(certificate_.get()));
  subject_ = one_line_subject(certificate_.get());
}

ClientCertificate ClientCertificate::load_pem_files(const std::string& cert_file, const std::string& key_file,
                                                    const std::string& password) {
  return load_pair(cert_file, key_file, password, cert_file, key_file);
}

ClientCertificate ClientCertificate::load_bundle_file(const std::string& file, const std::string& password) {
  return load_bundle(file, password, file);
}

void ClientCertificate::use_in(SSL_CTX* context) const {
  bool ok = SSL_CTX_use_certificate(context, certificate_.get()) == 1 &&
            SSL_CTX_use_PrivateKey(context, key_.get()) == 1;
  for (const auto& intermediate : chain_) {
    ok = ok && SSL_CTX_add1_chain_cert(context, intermediate.get()) == 1;
  }
  ok = ok && SSL_CTX_check_private_key(context) == 1;
  if (!ok) {
    throw CredentialsError(error::invalid_certificate,
                           "TLS refused the client certificate \"" + subject_ + "\": " +
                               openssl::take_openssl_error());
  }
}

std::optional<std::string> ClientCertificate::validity_problem(system_clock::time_point now) const {
  if (now > not_after_) return "the APNs client certificate expired at " + format_utc(not_after_);
  if (now < not_before_) return "the APNs client certificate is not valid before " + format_utc(not_before_);
  return std::nullopt;
}

std::string Credentials::describe() const {
  if (type == Type::token) return "token auth, key_id " + key_id + ", team_id " + team_id;
  if (!certificate) return "certificate auth (not loaded)";
  return "certificate auth, subject \"" + certificate->subject() + "\", valid until " +
         format_utc(certificate->not_after());
}

Credentials load_credentials(const config::ApnsAuthConfig& auth, std::string_view config_path) {
  const std::string base(config_path);
  Credentials credentials;
  credentials.type = auth.type;
  if (auth.type == Type::token) {
    require(auth.key_file, base, "key_file", "token");
    require(auth.key_id, base, "key_id", "token");
    require(auth.team_id, base, "team_id", "token");
    const std::string label = base + ".key_file: " + auth.key_file;
    const std::string pem = read_file_or_fail(auth.key_file, label, ".p8 key file");
    credentials.signing_key = SigningKey::from_pem(pem, label);
    credentials.key_id = auth.key_id;
    credentials.team_id = auth.team_id;
    return credentials;
  }

  require(auth.cert_file, base, "cert_file", "certificate");
  const std::string cert_label = base + ".cert_file: " + auth.cert_file;
  if (auth.key_file.empty()) {
    credentials.certificate = load_bundle(auth.cert_file, auth.cert_password, cert_label);
  } else {
    credentials.certificate = load_pair(auth.cert_file, auth.key_file, auth.cert_password, cert_label,
                                        base + ".key_file: " + auth.key_file);
  }
  return credentials;
}

std::string format_utc(system_clock::time_point when) {
  const auto day = std::chrono::floor<std::chrono::days>(when);
  const std::chrono::year_month_day date{day};
  const std::chrono::hh_mm_ss time{std::chrono::floor<std::chrono::seconds>(when - day)};
  std::array<char, 32> text{};
  std::snprintf(text.data(), text.size(), "%04d-%02u-%02uT%02d:%02d:%02dZ", static_cast<int>(date.year()),
                static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                static_cast<int>(time.hours().count()), static_cast<int>(time.minutes().count()),
                static_cast<int>(time.seconds().count()));
  return text.data();
}

}  // namespace pushgw::apns
