#pragma once
// Errors of the apns module that reach other modules: loading credentials at start-up (the
// app module reports them and refuses to start) and signing provider tokens.
//
// A CredentialsError carries both a code (to branch on) and a message that names what is
// wrong and where: the config key, the file, and what was found. Messages never contain key
// material or passwords.

#include <stdexcept>
#include <string>
#include <type_traits>

#include <boost/system/error_code.hpp>

#include "pushgw/common/error_category.hpp"

namespace pushgw::apns {

enum class error {
  missing_setting = 1,       // a required config key is empty (key_id, team_id, key_file...)
  file_unreadable,           // a key or certificate file cannot be read
  not_a_pem_private_key,     // the .p8 holds no PEM private key
  not_an_ec_p256_key,        // the key is not an EC key on P-256 (ES256 needs P-256)
  encrypted_key,             // the PEM key is encrypted and no password was given
  invalid_certificate,       // the certificate file holds no usable X.509 certificate
  invalid_pkcs12,            // PKCS#12 cannot be parsed or the password is wrong
  certificate_key_mismatch,  // the private key does not belong to the certificate
  signing_failed,            // OpenSSL failed to sign (should not happen with a loaded key)
};

const boost::system::error_category& error_category();
inline boost::system::error_code make_error_code(error e) { return {static_cast<int>(e), error_category()}; }

using CredentialsError = common::CodedError<error>;

}  // namespace pushgw::apns

namespace boost::system {
template <>
struct is_error_code_enum<pushgw::apns::error> : std::true_type {};
}  // namespace boost::system
