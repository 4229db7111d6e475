#include "pushgw/job/split.hpp"

#include <algorithm>
#include <array>
#include <stdexcept>

#include <openssl/rand.h>

namespace pushgw::job {

std::string random_job_id() {
  std::array<unsigned char, 16> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
    throw std::runtime_error("RAND_bytes failed: cannot generate a job id");
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id;
  id.reserve(bytes.size() * 2);
  for (unsigned char b : bytes) {
    id += kHex[b >> 4];
    id += kHex[b & 0x0f];
  }
  return id;
}

std::vector<Notification> split_into_jobs(const Notification& n, std::size_t max_tokens,
                                          const JobIdSource& ids, std::int64_t now_ms,
                                          std::string_view effective_app) {
  max_tokens = std::max<std::size_t>(max_tokens, 1);
  const std::size_t count = n.tokens.empty() ? 1 : (n.tokens.size() + max_tokens - 1) / max_tokens;

  // Copy everything but the tokens once, then give each job its slice.
  Notification base = n;
  base.tokens.clear();
  if (!effective_app.empty()) base.app = std::string(effective_app);

  std::vector<Notification> jobs;
  jobs.reserve(count);
  for (std::size_t k = 0; k < count; ++k) {
    Notification job = base;
    const std::size_t first = std::min(k * max_tokens, n.tokens.size());
    const std::size_t last = std::min(first + max_tokens, n.tokens.size());
    job.tokens.assign(n.tokens.begin() + static_cast<std::ptrdiff_t>(first),
                      n.tokens.begin() + static_cast<std::ptrdiff_t>(last));
    if (n.id && count > 1) job.id = *n.id + "#" + std::to_string(k);
    job.job = JobMeta{ids(), now_ms, 0, 0};
    jobs.push_back(std::move(job));
  }
  return jobs;
}

}  // namespace pushgw::job
