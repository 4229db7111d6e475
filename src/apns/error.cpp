#include "pushgw/apns/error.hpp"

#include "pushgw/common/error_category.hpp"

namespace pushgw::apns {
namespace {

const char* describe(error e) {
  switch (e) {
    case error::missing_setting: return "a required APNs setting is empty";
    case error::file_unreadable: return "an APNs credentials file cannot be read";
    case error::not_a_pem_private_key: return "not a PEM private key";
    case error::not_an_ec_p256_key: return "not an EC P-256 key";
    case error::encrypted_key: return "the private key is encrypted";
    case error::invalid_certificate: return "not a valid X.509 certificate";
    case error::invalid_pkcs12: return "not a valid PKCS#12 file, or wrong password";
    case error::certificate_key_mismatch: return "the private key does not match the certificate";
    case error::signing_failed: return "ES256 signing failed";
  }
  return nullptr;
}

}  // namespace

const boost::system::error_category& error_category() { return common::category_of<error>("pushgw.apns", describe); }

}  // namespace pushgw::apns
