#pragma once
// Redis key names (DESIGN.md §4 "Redis keys"). Every key of one lane shares the hash tag
// {<lane>}, so Redis Cluster keeps a lane's keys in one slot and scripts can touch them all.

#include <array>
#include <string>
#include <string_view>

namespace pushgw::queue {

// The lanes, highest priority first.
inline constexpr std::array<std::string_view, 3> kLanes{"high", "default", "bulk"};
inline constexpr std::string_view kDefaultLane = "default";

bool is_lane(std::string_view name);

class Keys {
 public:
  explicit Keys(std::string prefix = "pushgw") : prefix_(std::move(prefix)) {}

  std::string queue(std::string_view lane) const;                                  // list
  std::string processing(std::string_view lane, std::string_view instance) const;  // list
  std::string retry(std::string_view lane) const;                                  // zset
  std::string dead(std::string_view lane) const;                                   // list
  std::string instance(std::string_view instance) const;                           // heartbeat
  std::string instances() const;                                                   // set
  std::string inactive(std::string_view app, std::string_view platform) const;     // hash
  std::string feedback() const;                                                    // list
  std::string reaper_lease() const;                                                // string, TTL
  std::string idempotency(std::string_view app, std::string_view id) const;        // string, TTL

  const std::string& prefix() const { return prefix_; }

 private:
  std::string lane_key(std::string_view lane, std::string_view suffix) const;
  std::string prefix_;
};

}  // namespace pushgw::queue
