#include "pushgw/apns/error.hpp"

namespace pushgw::apns {
namespace {

class Category final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "pushgw.apns"; }

  std::string message(int value) const override {
    switch (static_cast<error>(value)) {
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
    return "unknown apns error " + std::to_string(value);
  }
};

}  // namespace

const boost::system::error_category& error_category() {
  static const Category category;
  return category;
}

boost::system::error_code make_error_code(error e) {
  return {static_cast<int>(e), error_category()};
}

}  // namespace pushgw::apns
