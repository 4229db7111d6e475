// Fuzzes the job decoder: the Redis element text a producer LPUSHes (job::decode_job_string),
// and under it the fast JSON reader against nlohmann's parser. Traps when
//   - the fast reader accepts a text nlohmann rejects, or reads it into a different value;
//   - decoding through the fast reader and through nlohmann (the same text behind a byte-order
//     mark, which the fast reader leaves to nlohmann) gives different jobs or errors;
//   - a decoded notification does not survive encode_job_string → decode_job_string;
//   - splitting a valid notification loses, duplicates or over-fills tokens.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include <nlohmann/json.hpp>

#include "pushgw/job/codec.hpp"
#include "pushgw/job/fast_json.hpp"
#include "pushgw/job/split.hpp"
#include "pushgw/job/validate.hpp"
#include "validation_context.hpp"

namespace {

using nlohmann::json;
using namespace pushgw;

// Equal values of equal types all the way down: json's == takes 5 and 5u, or 1 and 1.0, as
// equal, but the fast reader must build exactly what nlohmann builds.
bool identical(const json& a, const json& b) {
  if (a.type() != b.type() || a.size() != b.size()) return false;
  if (a.is_object()) {
    auto other = b.begin();
    for (auto it = a.begin(); it != a.end(); ++it, ++other) {
      if (it.key() != other.key() || !identical(it.value(), other.value())) return false;
    }
    return true;
  }
  if (a.is_array()) {
    for (std::size_t i = 0; i < a.size(); ++i) {
      if (!identical(a[i], b[i])) return false;
    }
    return true;
  }
  return a == b;
}

void check_fast_reader(const std::string& text) {
  const auto fast = job::read_json_fast(text, job::kMaxJsonDepth);
  json reference;
  try {
    reference = json::parse(text);
  } catch (const json::exception&) {
    if (fast) __builtin_trap();  // accepted what nlohmann rejects
    return;
  }
  if (fast && !identical(*fast, reference)) __builtin_trap();
}

void check_split(const job::Notification& n) {
  constexpr std::size_t kMaxTokens = 3;
  std::size_t next_id = 0;
  const job::JobIdSource ids = [&next_id] { return "job-" + std::to_string(next_id++); };
  const auto jobs = job::split_into_jobs(n, kMaxTokens, ids, 1'700'000'000'000, "ios-app");
  std::size_t at = 0;
  for (const auto& part : jobs) {
    if (part.tokens.empty() || part.tokens.size() > kMaxTokens || !part.job) __builtin_trap();
    for (const auto& token : part.tokens) {
      if (at >= n.tokens.size() || token != n.tokens[at++]) __builtin_trap();
    }
  }
  if (at != n.tokens.size()) __builtin_trap();
}

void check_notification(const job::Notification& n) {
  const std::string element = job::encode_job_string(n);
  const auto again = job::decode_job_string(element);
  const auto* decoded = std::get_if<std::vector<job::Notification>>(&again);
  if (!decoded || decoded->size() != 1 || decoded->front() != n) __builtin_trap();

  static const job::ValidationContext context = fuzz::validation_context();
  if (!job::validate_notification(n, context, "")) check_split(n);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  check_fast_reader(text);

  const auto decoded = job::decode_job_string(text);
  // nlohmann skips one byte-order mark: a text that has its own is left out of this check.
  constexpr std::string_view kByteOrderMark = "\xEF\xBB\xBF";
  if (!text.starts_with(kByteOrderMark)) {
    const auto through_nlohmann = job::decode_job_string(std::string(kByteOrderMark) + text);
    if (job::read_json_fast(text, job::kMaxJsonDepth)) {
      if (decoded != through_nlohmann) __builtin_trap();
    } else if (decoded.index() != through_nlohmann.index()) {
      __builtin_trap();  // the same invalid text, its error only at other byte offsets
    }
  }

  if (const auto* notifications = std::get_if<std::vector<job::Notification>>(&decoded)) {
    for (const auto& n : *notifications) check_notification(n);
  }
  return 0;
}
