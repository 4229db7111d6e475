#pragma once
// Which elements this instance holds (taken into its processing lists and not yet acked), per
// lane, so that elements sitting in a processing list that no job holds can be told apart: a
// take whose reply was lost (Redis restarted) moved them, and only this instance can return
// them while its heartbeat lives. Pure bookkeeping, no I/O.

#include <array>
#include <cstddef>
#include <string>
#include <unordered_map>
#include <vector>

#include "pushgw/queue/lane.hpp"

namespace pushgw::queue {

class HeldElements {
 public:
  void hold(Lane lane, const std::vector<std::string>& elements);
  // One copy of `element` is no longer held (acked, or replaced).
  void release(Lane lane, const std::string& element);

  // Given what the lane's processing list holds now (read after the last take's reply, so
  // takes that completed meanwhile count as held): one entry per copy that no job holds now and
  // that was already surplus at the previous call. One call apart rules out a take whose reply
  // is still on its way. Remembers this call's surplus for the next.
  std::vector<std::string> stranded(Lane lane, const std::vector<std::string>& list);
  // The stranded elements went back to the queue: forget the surplus remembered for `lane`.
  void returned(Lane lane);

 private:
  using Copies = std::unordered_map<std::string, std::size_t>;  // element → copies
  std::array<Copies, Lane::kCount> held_;
  std::array<Copies, Lane::kCount> surplus_;
};

}  // namespace pushgw::queue
