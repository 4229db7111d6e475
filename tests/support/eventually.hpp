#pragma once
// Waiting for a condition in tests, never for a fixed time: the machines that run them are
// shared and noisy. The limits only turn a hang into a failure; they are not timing goals.
// Blocking (no Asio): for conditions another process or thread makes true. For coroutines and
// io_contexts see support/asio_wait.hpp.

#include <chrono>
#include <thread>

namespace pushgw::test {

// Polls `condition` until it holds; false when `limit` passed first.
template <class Condition>
bool eventually(Condition&& condition, std::chrono::milliseconds limit = std::chrono::seconds(60)) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

}  // namespace pushgw::test
