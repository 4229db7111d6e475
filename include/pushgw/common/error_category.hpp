#pragma once
// A module's error category (boost::system), written once. A module has an error enum, a
// function naming each value, and:
//
//   const boost::system::error_category& error_category() {
//     return common::category_of<error>("pushgw.<module>", describe);
//   }
//   inline boost::system::error_code make_error_code(error e) (in its header: found by ADL)

#include <stdexcept>
#include <string>

#include <boost/system/error_category.hpp>

namespace pushgw::common {

template <class Enum>
class EnumCategory final : public boost::system::error_category {
 public:
  using Describe = const char* (*)(Enum);  // nullptr for a value it does not know
  EnumCategory(const char* name, Describe describe) noexcept : name_(name), describe_(describe) {}
  const char* name() const noexcept override { return name_; }
  std::string message(int value) const override {
    if (const char* text = describe_(static_cast<Enum>(value))) return text;
    return std::string("unknown ") + name_ + " error " + std::to_string(value);
  }

 private:
  const char* name_;
  Describe describe_;
};

// The one category of `Enum`, made on first use.
template <class Enum>
const boost::system::error_category& category_of(const char* name, const char* (*describe)(Enum)) {
  static const EnumCategory<Enum> category(name, describe);
  return category;
}

// An exception with a module's error code (to branch on) and a message that names what is
// wrong and where (e.g. apns::CredentialsError, fcm::CredentialsError).
template <class Enum>
class CodedError : public std::runtime_error {
 public:
  CodedError(Enum code, const std::string& message) : std::runtime_error(message), code_(code) {}
  Enum code() const { return code_; }

 private:
  Enum code_;
};

}  // namespace pushgw::common
