#pragma once
// A JSON reader for the texts pushgw reads most (jobs from Redis, POST /push bodies) that
// builds exactly the nlohmann::json that json::parse builds, several times faster: nlohmann's
// lexer copies every character twice and checks each one by one, which made job decoding the
// largest cost of the thread that takes jobs. It covers the common case only and declines
// the rest, which then goes to nlohmann (so every error message stays nlohmann's).

#include <cstddef>
#include <optional>
#include <string_view>

#include <nlohmann/json.hpp>

namespace pushgw::job {

// The value json::parse(text) gives, or nullopt when this reader leaves the text to nlohmann:
// any invalid JSON (nlohmann then says where), arrays and objects nested deeper than
// max_depth, numbers with a fraction or an exponent or of more than 18 digits, and a leading
// byte-order mark. Strings may hold escapes and any valid UTF-8.
std::optional<nlohmann::json> read_json_fast(std::string_view text, std::size_t max_depth);

}  // namespace pushgw::job
