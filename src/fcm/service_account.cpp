#include "pushgw/fcm/service_account.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>
#include <openssl/pem.h>

#include "pushgw/common/openssl.hpp"
#include "pushgw/fcm/error.hpp"
#include "pushgw/h2/endpoint.hpp"

namespace pushgw::fcm {

namespace openssl = common::openssl;
namespace {

[[noreturn]] void fail(error code, std::string_view source, std::string_view what) {
  throw CredentialsError(code, std::string(source) + ": " + std::string(what));
}

// Never prompts on the terminal (OpenSSL's default would block a daemon waiting for stdin):
// an encrypted key simply fails to load.
int no_password(char* /*buffer*/, int /*size*/, int /*rwflag*/, void* /*userdata*/) { return -1; }

std::string required_string(const nlohmann::json& doc, const char* field, std::string_view source) {
  const auto it = doc.find(field);
  if (it == doc.end()) fail(error::missing_field, source, std::string(field) + ": missing");
  if (!it->is_string()) fail(error::bad_field, source, std::string(field) + ": must be a string");
  const auto& value = it->get_ref<const std::string&>();
  if (value.empty()) fail(error::missing_field, source, std::string(field) + ": empty");
  return value;
}

}  // namespace

RsaKey RsaKey::from_pem(const std::string& pem, std::string_view source) {
  if (pem.find("-----BEGIN ENCRYPTED PRIVATE KEY-----") != std::string::npos) {
    fail(error::not_an_rsa_key, source,
         "private_key: the key is encrypted; service-account keys are stored unencrypted");
  }
  if (pem.find("PRIVATE KEY-----") == std::string::npos) {
    fail(error::not_an_rsa_key, source,
         "private_key: not a PEM private key (expected a \"-----BEGIN PRIVATE KEY-----\" block)");
  }
  openssl::BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  EVP_PKEY* raw = bio ? PEM_read_bio_PrivateKey_ex(bio.get(), nullptr, &no_password, nullptr, nullptr, nullptr)
                      : nullptr;
  if (raw == nullptr) {
    fail(error::not_an_rsa_key, source, "private_key: not a PEM private key (" + openssl::take_openssl_error() + ")");
  }
  std::shared_ptr<EVP_PKEY> key(raw, openssl::PkeyFree{});
  if (!EVP_PKEY_is_a(raw, "RSA")) {
    fail(error::not_an_rsa_key, source,
         std::string("private_key: not an RSA key (found a ") + EVP_PKEY_get0_type_name(raw) +
             " key; OAuth assertions are signed with RS256)");
  }
  ERR_clear_error();
  return RsaKey(std::move(key));
}

std::string RsaKey::sign_rs256(std::string_view data) const {
  openssl::MdCtxPtr context(EVP_MD_CTX_new());
  std::size_t length = 0;
  const auto* input = reinterpret_cast<const unsigned char*>(data.data());
  std::string signature;
  bool ok = context && EVP_DigestSignInit(context.get(), nullptr, EVP_sha256(), nullptr, key_.get()) == 1 &&
            EVP_DigestSign(context.get(), nullptr, &length, input, data.size()) == 1;
  if (ok) {
    signature.resize(length);
    ok = EVP_DigestSign(context.get(), reinterpret_cast<unsigned char*>(signature.data()), &length, input,
                        data.size()) == 1;
  }
  if (!ok) throw CredentialsError(error::signing_failed, "RS256 signing failed: " + openssl::take_openssl_error());
  signature.resize(length);
  return signature;
}

std::string RsaKey::public_key_pem() const {
  openssl::BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PUBKEY(bio.get(), key_.get()) != 1) {
    throw CredentialsError(error::signing_failed, "cannot export the public key: " + openssl::take_openssl_error());
  }
  char* data = nullptr;
  const long length = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(length));
}

std::optional<HttpsUrl> parse_https_url(std::string_view url, std::string* error) {
  std::string ignored;
  if (error == nullptr) error = &ignored;
  constexpr std::string_view kScheme = "https://";
  if (url.substr(0, kScheme.size()) != kScheme) {
    *error = "must start with https://";
    return std::nullopt;
  }
  if (url.find_first_of("?#") != std::string_view::npos) {
    *error = "must have no query or fragment";
    return std::nullopt;
  }
  const std::size_t slash = url.find('/', kScheme.size());
  const std::string_view authority = url.substr(0, slash);
  const auto endpoint = h2::parse_https_endpoint(authority, error);
  if (!endpoint) return std::nullopt;
  HttpsUrl parsed;
  parsed.host = endpoint->host;
  parsed.port = endpoint->port;
  parsed.path = slash == std::string_view::npos ? std::string("/") : std::string(url.substr(slash));
  return parsed;
}

std::string ServiceAccount::describe() const {
  std::string text = "service account " + client_email + " (project " + project_id;
  if (!private_key_id.empty()) text += ", key " + private_key_id;
  return text + ")";
}

ServiceAccount parse_service_account(std::string_view json_text, std::string_view source) {
  const nlohmann::json doc = nlohmann::json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object()) {
    fail(error::not_json, source,
         "not a JSON object (expected the service-account key file from the Firebase console)");
  }
  // Other Google credential files (authorized_user, external_account) cannot sign assertions.
  if (const auto type = doc.find("type"); type != doc.end()) {
    if (!type->is_string() || type->get_ref<const std::string&>() != "service_account") {
      fail(error::bad_field, source,
           "type: must be \"service_account\", got " + type->dump() + " (not a service-account key file)");
    }
  }
  ServiceAccount account;
  account.project_id = required_string(doc, "project_id", source);
  account.client_email = required_string(doc, "client_email", source);
  account.token_uri = required_string(doc, "token_uri", source);
  if (const auto id = doc.find("private_key_id"); id != doc.end() && id->is_string()) {
    account.private_key_id = id->get<std::string>();
  }
  std::string url_error;
  auto endpoint = parse_https_url(account.token_uri, &url_error);
  if (!endpoint) fail(error::bad_field, source, "token_uri: \"" + account.token_uri + "\": " + url_error);
  account.token_endpoint = std::move(*endpoint);
  // Last, so the key text never meets an error path that could print it.
  account.key = RsaKey::from_pem(required_string(doc, "private_key", source), source);
  return account;
}

ServiceAccount load_service_account(const std::string& path, std::string_view config_path) {
  if (path.empty()) fail(error::missing_setting, config_path, "not set (the service-account JSON key file)");
  const std::string source = std::string(config_path) + ": " + path;
  errno = 0;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    fail(error::file_unreadable, source,
         std::string("cannot read the service-account file: ") + (errno != 0 ? std::strerror(errno) : "cannot open"));
  }
  std::ostringstream content;
  content << in.rdbuf();
  if (in.bad()) fail(error::file_unreadable, source, "cannot read the service-account file: read error");
  return parse_service_account(std::move(content).str(), source);
}

}  // namespace pushgw::fcm
