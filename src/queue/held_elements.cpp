#include "pushgw/queue/held_elements.hpp"

#include <algorithm>

namespace pushgw::queue {

void HeldElements::hold(Lane lane, const std::vector<std::string>& elements) {
  auto& held = held_[lane.index()];
  for (const auto& element : elements) ++held[element];
}

void HeldElements::release(Lane lane, const std::string& element) {
  auto& held = held_[lane.index()];
  auto copy = held.find(element);
  if (copy == held.end()) return;
  if (--copy->second == 0) held.erase(copy);
}

std::vector<std::string> HeldElements::stranded(Lane lane, const std::vector<std::string>& list) {
  // Copies in the list beyond the copies held.
  Copies surplus;
  for (const auto& element : list) ++surplus[element];
  for (const auto& [element, copies] : held_[lane.index()]) {
    auto s = surplus.find(element);
    if (s == surplus.end()) continue;
    s->second = s->second > copies ? s->second - copies : 0;
  }
  std::erase_if(surplus, [](const auto& entry) { return entry.second == 0; });

  auto& previous = surplus_[lane.index()];
  std::vector<std::string> out;
  for (const auto& [element, copies] : surplus) {
    auto before = previous.find(element);
    if (before == previous.end()) continue;
    out.insert(out.end(), std::min(copies, before->second), element);
  }
  previous = std::move(surplus);
  return out;
}

void HeldElements::returned(Lane lane) { surplus_[lane.index()].clear(); }

}  // namespace pushgw::queue
