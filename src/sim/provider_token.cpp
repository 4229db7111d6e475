#include "pushgw/sim/provider_token.hpp"

#include <fstream>
#include <iterator>

#include <nlohmann/json.hpp>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

namespace pushgw::sim {

namespace {
constexpr std::int64_t max_token_age_seconds = 3600;  // APNs: refresh at most hourly
constexpr std::size_t max_remembered_tokens = 1024;
}  // namespace

std::string_view reason_of(TokenVerdict verdict) {
  switch (verdict) {
    case TokenVerdict::valid: return "";
    case TokenVerdict::missing: return "MissingProviderToken";
    case TokenVerdict::invalid: return "InvalidProviderToken";
    case TokenVerdict::expired: return "ExpiredProviderToken";
  }
  return "InvalidProviderToken";
}

bool base64url_decode(std::string_view text, std::string* out) {
  while (!text.empty() && text.back() == '=') text.remove_suffix(1);
  out->clear();
  out->reserve(text.size() * 3 / 4);
  std::uint32_t bits = 0;
  int count = 0;
  for (const char c : text) {
    int value;
    if (c >= 'A' && c <= 'Z') value = c - 'A';
    else if (c >= 'a' && c <= 'z') value = c - 'a' + 26;
    else if (c >= '0' && c <= '9') value = c - '0' + 52;
    else if (c == '-') value = 62;
    else if (c == '_') value = 63;
    else return false;
    bits = (bits << 6) | static_cast<std::uint32_t>(value);
    count += 6;
    if (count >= 8) {
      count -= 8;
      out->push_back(static_cast<char>((bits >> count) & 0xff));
    }
  }
  return count < 6;  // a single leftover character cannot encode a byte
}

ProviderTokenVerifier::ProviderTokenVerifier(EVP_PKEY* key, std::string key_id, std::string team_id)
    : key_(key), key_id_(std::move(key_id)), team_id_(std::move(team_id)) {}

ProviderTokenVerifier::~ProviderTokenVerifier() { EVP_PKEY_free(key_); }

std::unique_ptr<ProviderTokenVerifier> ProviderTokenVerifier::from_pem(std::string_view key_pem,
                                                                       std::string key_id,
                                                                       std::string team_id,
                                                                       std::string* error) {
  std::string ignored;
  if (!error) error = &ignored;
  BIO* bio = BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size()));
  EVP_PKEY* key = bio ? PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr) : nullptr;
  BIO_free(bio);
  ERR_clear_error();
  if (!key) {
    *error = "not a PEM private key (expected an APNs .p8 file)";
    return nullptr;
  }
  if (EVP_PKEY_get_base_id(key) != EVP_PKEY_EC || EVP_PKEY_get_bits(key) != 256) {
    EVP_PKEY_free(key);
    *error = "not an EC P-256 key (APNs keys are ES256)";
    return nullptr;
  }
  return std::unique_ptr<ProviderTokenVerifier>(
      new ProviderTokenVerifier(key, std::move(key_id), std::move(team_id)));
}

std::unique_ptr<ProviderTokenVerifier> ProviderTokenVerifier::from_file(const std::string& path,
                                                                        std::string key_id,
                                                                        std::string team_id,
                                                                        std::string* error) {
  std::ifstream in(path);
  if (!in) {
    if (error) *error = path + ": cannot be read";
    return nullptr;
  }
  const std::string pem((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto verifier = from_pem(pem, std::move(key_id), std::move(team_id), error);
  if (!verifier && error) *error = path + ": " + *error;
  return verifier;
}

bool ProviderTokenVerifier::verify_signature(std::string_view signed_part,
                                             std::string_view signature) const {
  // JWS carries r || s (32 bytes each); OpenSSL verifies DER.
  if (signature.size() != 64) return false;
  const auto* raw = reinterpret_cast<const unsigned char*>(signature.data());
  ECDSA_SIG* sig = ECDSA_SIG_new();
  BIGNUM* r = BN_bin2bn(raw, 32, nullptr);
  BIGNUM* s = BN_bin2bn(raw + 32, 32, nullptr);
  if (!sig || !r || !s || ECDSA_SIG_set0(sig, r, s) != 1) {
    ECDSA_SIG_free(sig);
    BN_free(r);
    BN_free(s);
    return false;
  }
  unsigned char* der = nullptr;
  const int der_size = i2d_ECDSA_SIG(sig, &der);
  ECDSA_SIG_free(sig);
  if (der_size <= 0) return false;

  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  const bool ok =
      ctx && EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, key_) == 1 &&
      EVP_DigestVerify(ctx, der, static_cast<size_t>(der_size),
                       reinterpret_cast<const unsigned char*>(signed_part.data()),
                       signed_part.size()) == 1;
  EVP_MD_CTX_free(ctx);
  OPENSSL_free(der);
  ERR_clear_error();
  return ok;
}

TokenVerdict ProviderTokenVerifier::check(std::string_view authorization, std::int64_t now) const {
  if (authorization.empty()) return TokenVerdict::missing;
  constexpr std::string_view bearer = "bearer ";
  if (authorization.size() <= bearer.size()) return TokenVerdict::invalid;
  for (std::size_t i = 0; i < bearer.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(authorization[i])) != bearer[i]) {
      return TokenVerdict::invalid;
    }
  }
  const std::string_view jwt = authorization.substr(bearer.size());
  const auto expiry = [now](std::int64_t iat) {
    return iat + max_token_age_seconds < now ? TokenVerdict::expired : TokenVerdict::valid;
  };
  {
    std::lock_guard lock(mutex_);
    if (const auto it = verified_.find(std::string(jwt)); it != verified_.end()) {
      return expiry(it->second);
    }
  }

  const auto first_dot = jwt.find('.');
  const auto second_dot = jwt.find('.', first_dot == std::string_view::npos ? 0 : first_dot + 1);
  if (first_dot == std::string_view::npos || second_dot == std::string_view::npos ||
      jwt.find('.', second_dot + 1) != std::string_view::npos) {
    return TokenVerdict::invalid;
  }
  std::string header_text, claims_text, signature;
  if (!base64url_decode(jwt.substr(0, first_dot), &header_text) ||
      !base64url_decode(jwt.substr(first_dot + 1, second_dot - first_dot - 1), &claims_text) ||
      !base64url_decode(jwt.substr(second_dot + 1), &signature)) {
    return TokenVerdict::invalid;
  }
  const auto header = nlohmann::json::parse(header_text, nullptr, false);
  const auto claims = nlohmann::json::parse(claims_text, nullptr, false);
  if (!header.is_object() || !claims.is_object()) return TokenVerdict::invalid;
  const auto alg = header.find("alg");
  const auto kid = header.find("kid");
  const auto iss = claims.find("iss");
  const auto iat = claims.find("iat");
  if (alg == header.end() || *alg != "ES256" || kid == header.end() || !kid->is_string() ||
      iss == claims.end() || !iss->is_string() || iat == claims.end() ||
      !iat->is_number_integer()) {
    return TokenVerdict::invalid;
  }
  if (!key_id_.empty() && kid->get<std::string>() != key_id_) return TokenVerdict::invalid;
  if (!team_id_.empty() && iss->get<std::string>() != team_id_) return TokenVerdict::invalid;
  if (!verify_signature(jwt.substr(0, second_dot), signature)) return TokenVerdict::invalid;

  const std::int64_t issued = iat->get<std::int64_t>();
  {
    std::lock_guard lock(mutex_);
    if (verified_.size() >= max_remembered_tokens) verified_.clear();
    verified_.emplace(std::string(jwt), issued);
  }
  return expiry(issued);
}

}  // namespace pushgw::sim
