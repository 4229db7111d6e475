#pragma once
// A lane: one of the queues a job waits in (DESIGN.md §4: "high", "default", "bulk"), as a
// small value with its index (per-lane arrays, priority order: 0 is served first) and its name
// (keys, logs, metric labels). Lane::all() lists every lane, highest priority first.

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

namespace pushgw::queue {

// Why a name is not a lane; the message names the lanes there are.
struct LaneError {
  std::string message;
};

class Lane {
 public:
  static constexpr std::size_t kCount = 3;

  static constexpr Lane high() { return Lane(0); }
  static constexpr Lane default_lane() { return Lane(1); }  // a notification without "lane"
  static constexpr Lane bulk() { return Lane(2); }

  // Every lane, highest priority first.
  static constexpr std::array<Lane, kCount> all() { return {Lane(0), Lane(1), Lane(2)}; }

  // The lane called `name`, or an error that quotes it.
  static std::variant<Lane, LaneError> parse(std::string_view name);

  constexpr std::size_t index() const { return index_; }
  constexpr std::string_view name() const { return kNames[index_]; }

  constexpr bool operator==(const Lane&) const = default;

 private:
  static constexpr std::array<std::string_view, kCount> kNames{"high", "default", "bulk"};
  constexpr explicit Lane(std::uint8_t index) : index_(index) {}
  std::uint8_t index_;
};

}  // namespace pushgw::queue
