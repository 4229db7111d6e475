#pragma once
// Errors of the fcm module that reach other modules: loading the service account at start-up
// (the app module reports them and refuses to start) and signing OAuth assertions.
//
// A CredentialsError carries both a code (to branch on) and a message that names what is
// wrong and where: the config key, the file, the field. Messages never contain key material.

#include <stdexcept>
#include <string>
#include <type_traits>

#include <boost/system/error_code.hpp>

#include "pushgw/common/error_category.hpp"

namespace pushgw::fcm {

enum class error {
  missing_setting = 1,   // service_account_file is empty in the config
  file_unreadable,       // the service-account file cannot be read
  not_json,              // the file is not a JSON object
  missing_field,         // a required field is absent, empty or not a string
  bad_field,             // a field has an unusable value (type, token_uri)
  not_an_rsa_key,        // private_key holds no unencrypted PEM RSA private key
  signing_failed,        // OpenSSL failed to sign (should not happen with a loaded key)
};

const boost::system::error_category& error_category();
inline boost::system::error_code make_error_code(error e) { return {static_cast<int>(e), error_category()}; }

using CredentialsError = common::CodedError<error>;

}  // namespace pushgw::fcm

namespace boost::system {
template <>
struct is_error_code_enum<pushgw::fcm::error> : std::true_type {};
}  // namespace boost::system
