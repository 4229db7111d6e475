#include "pushgw/fcm/error.hpp"

namespace pushgw::fcm {
namespace {

class Category final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "pushgw.fcm"; }

  std::string message(int value) const override {
    switch (static_cast<error>(value)) {
      case error::missing_setting: return "a required FCM setting is empty";
      case error::file_unreadable: return "the service-account file cannot be read";
      case error::not_json: return "the service-account file is not a JSON object";
      case error::missing_field: return "a required service-account field is missing";
      case error::bad_field: return "a service-account field has an unusable value";
      case error::not_an_rsa_key: return "not a PEM RSA private key";
      case error::signing_failed: return "RS256 signing failed";
    }
    return "unknown fcm error " + std::to_string(value);
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

}  // namespace pushgw::fcm
