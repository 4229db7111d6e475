#include "pushgw/sim/router.hpp"

namespace pushgw::sim {

void Router::add(Route route) { routes_.push_back(std::move(route)); }

const Route* Router::find(std::string_view method, std::string_view path, int* status) const {
  // The query string plays no part in routing.
  path = path.substr(0, path.find('?'));
  bool path_matched = false;
  for (const auto& route : routes_) {
    const bool matches = route.prefix ? path.substr(0, route.path.size()) == route.path
                                      : path == route.path;
    if (!matches) continue;
    if (route.method == method) return &route;
    path_matched = true;
  }
  if (status) *status = path_matched ? 405 : 404;
  return nullptr;
}

const Route* Router::dispatch(const Request& request, Response& response,
                              ConnectionContext& context) const {
  int status = 404;
  const Route* route = find(request.method(), request.path(), &status);
  if (!route) {
    response.reason = status == 405 ? "MethodNotAllowed" : "BadPath";
    response.set_json(status, std::string(R"({"reason":")") + std::string(response.reason) + "\"}");
    return nullptr;
  }
  route->handler(request, response, context);
  return route;
}

}  // namespace pushgw::sim
