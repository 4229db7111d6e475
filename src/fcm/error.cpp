#include "pushgw/fcm/error.hpp"

#include "pushgw/common/error_category.hpp"

namespace pushgw::fcm {
namespace {

const char* describe(error e) {
  switch (e) {
    case error::missing_setting: return "a required FCM setting is empty";
    case error::file_unreadable: return "the service-account file cannot be read";
    case error::not_json: return "the service-account file is not a JSON object";
    case error::missing_field: return "a required service-account field is missing";
    case error::bad_field: return "a service-account field has an unusable value";
    case error::not_an_rsa_key: return "not a PEM RSA private key";
    case error::signing_failed: return "RS256 signing failed";
  }
  return nullptr;
}

}  // namespace

const boost::system::error_category& error_category() { return common::category_of<error>("pushgw.fcm", describe); }

}  // namespace pushgw::fcm
