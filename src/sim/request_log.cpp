#include "pushgw/sim/request_log.hpp"

namespace pushgw::sim {

using nlohmann::json;

void RequestLog::record(const Request& request, const Response& response) {
  json headers = json::object();
  request.for_each_header([&](std::string_view name, std::string_view value) {
    if (name != "authorization") headers[std::string(name)] = std::string(value);
  });
  json body = json::parse(request.body(), nullptr, false);
  if (body.is_discarded()) body = std::string(request.body());
  json entry = {{"method", request.method()}, {"path", request.path()}, {"headers", std::move(headers)},
                {"body", std::move(body)},    {"status", response.status}, {"reason", response.reason}};
  const std::lock_guard lock(mutex_);
  if (entries_.size() == kCapacity) entries_.pop_front();
  entries_.push_back(std::move(entry));
}

std::string RequestLog::to_json() const {
  const std::lock_guard lock(mutex_);
  json list = json::array();
  for (const auto& entry : entries_) list.push_back(entry);
  return json{{"requests", std::move(list)}}.dump(-1, ' ', false, json::error_handler_t::replace);
}

void RequestLog::clear() {
  const std::lock_guard lock(mutex_);
  entries_.clear();
}

}  // namespace pushgw::sim
