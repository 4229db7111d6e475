#include "pushgw/fcm/service_account.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <variant>

#include <nlohmann/json.hpp>

#include "pushgw/common/openssl.hpp"
#include "pushgw/common/url.hpp"
#include "pushgw/fcm/error.hpp"

namespace pushgw::fcm {

namespace openssl = common::openssl;
namespace {

[[noreturn]] void fail(error code, std::string_view source, std::string_view what) {
  throw CredentialsError(code, std::string(source) + ": " + std::string(what));
}

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
  auto loaded = openssl::PrivateKey::from_pem(pem, "RSA");
  if (auto* failure = std::get_if<openssl::PrivateKey::Failure>(&loaded)) {
    std::string what;
    switch (failure->problem) {
      case openssl::PrivateKey::Problem::encrypted:
        what = "the key is encrypted; service-account keys are stored unencrypted";
        break;
      case openssl::PrivateKey::Problem::not_pem:
        what = failure->detail.empty() ? "not a PEM private key (expected a \"-----BEGIN PRIVATE KEY-----\" block)"
                                       : "not a PEM private key (" + failure->detail + ")";
        break;
      case openssl::PrivateKey::Problem::wrong_type:
        what = "not an RSA key (found a " + failure->detail + " key; OAuth assertions are signed with RS256)";
        break;
    }
    fail(error::not_an_rsa_key, source, "private_key: " + what);
  }
  return RsaKey(std::move(std::get<openssl::PrivateKey>(loaded)));
}

std::string RsaKey::sign_rs256(std::string_view data) const {
  std::string reason;
  auto signature = key_.sign_sha256(data, &reason);
  if (!signature) throw CredentialsError(error::signing_failed, "RS256 signing failed: " + reason);
  return std::move(*signature);
}

std::string RsaKey::public_key_pem() const {
  std::string reason;
  auto pem = key_.public_key_pem(&reason);
  if (!pem) throw CredentialsError(error::signing_failed, "cannot export the public key: " + reason);
  return std::move(*pem);
}

std::optional<HttpsUrl> parse_https_url(std::string_view url, std::string* error) {
  std::string ignored;
  if (error == nullptr) error = &ignored;
  if (url.substr(0, 8) != "https://") {
    *error = "must start with https://";
    return std::nullopt;
  }
  auto parsed = common::parse_url(url, error);
  if (!parsed) return std::nullopt;
  if (parsed->has_query) {
    *error = "must have no query or fragment";
    return std::nullopt;
  }
  return HttpsUrl{std::move(parsed->host), parsed->port, std::move(parsed->target)};
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
