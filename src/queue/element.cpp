#include "pushgw/queue/element.hpp"

#include <openssl/evp.h>

#include <variant>

#include <nlohmann/json.hpp>

#include "digest.hpp"
#include "pushgw/job/codec.hpp"

namespace pushgw::queue {

std::string element_job_id(std::string_view element) {
  // Fetched once: EVP_sha256() makes OpenSSL 3 look the algorithm up in its providers on every
  // digest (a few % of the main thread with single-token jobs).
  static const EVP_MD* const sha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  return detail::hex_digest(sha256 != nullptr ? sha256 : EVP_sha256(), element, 16);
}

namespace {

Redelivery mark_redelivered_or_throw(std::string_view element, std::size_t max_redeliveries) {
  auto decoded = job::decode_job_string(element);
  auto* notifications = std::get_if<std::vector<job::Notification>>(&decoded);
  if (!notifications || notifications->empty()) return {std::string(element), 0, false};

  const std::string base_id = element_job_id(element);
  Redelivery out;
  for (std::size_t i = 0; i < notifications->size(); ++i) {
    auto& n = (*notifications)[i];
    if (!n.job) {
      n.job.emplace();
      n.job->id = notifications->size() == 1 ? base_id : base_id + "#" + std::to_string(i);
    }
    n.job->redeliveries += 1;
    out.redeliveries = std::max(out.redeliveries, n.job->redeliveries);
  }
  out.exhausted = static_cast<std::size_t>(out.redeliveries) > max_redeliveries;
  out.element = encode_element(*notifications);
  return out;
}

}  // namespace

Redelivery mark_redelivered(std::string_view element, std::size_t max_redeliveries) {
  try {
    return mark_redelivered_or_throw(element, max_redeliveries);
  } catch (const std::exception&) {
    // Out of memory, or a bug: the element goes back unchanged (the dispatcher judges it),
    // and the reaper goes on with the next one.
    return {std::string(element), 0, false};
  }
}

std::string encode_element(const std::vector<job::Notification>& notifications) {
  if (notifications.size() == 1) return job::encode_job_string(notifications.front());
  nlohmann::json body = {{"notifications", nlohmann::json::array()}};
  for (const auto& n : notifications) body["notifications"].push_back(job::encode_notification(n));
  return job::dump_compact(body);
}

std::string_view to_string(DeadReason reason) {
  switch (reason) {
    case DeadReason::malformed: return "malformed";
    case DeadReason::invalid: return "invalid";
    case DeadReason::rejected: return "rejected";
    case DeadReason::retries_exhausted: return "retries_exhausted";
    case DeadReason::redelivered: return "redelivered";
    case DeadReason::expired: return "expired";
  }
  return "unknown";
}

std::optional<DeadReason> parse_dead_reason(std::string_view name) {
  for (const DeadReason reason : kDeadReasons) {
    if (to_string(reason) == name) return reason;
  }
  return std::nullopt;
}

std::string dead_letter_entry(std::string_view element, const DeadLetter& letter) {
  nlohmann::json entry = {{"reason", to_string(letter.reason)},
                          {"error", letter.error},
                          {"lane", letter.lane},
                          {"instance", letter.instance},
                          {"at", letter.at_ms}};
  auto parsed = job::parse_json(element);
  if (auto* j = std::get_if<nlohmann::json>(&parsed); j && j->is_object()) {
    entry["job"] = std::move(*j);
  } else {
    entry["raw"] = std::string(element);
  }
  return job::dump_compact(entry);
}

}  // namespace pushgw::queue
