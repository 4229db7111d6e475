#pragma once
// The simulator's route table: (method, path or path prefix) → handler. The APNs, FCM and
// OAuth services and the /sim/* control endpoints each add their routes; the HTTP/2 and
// HTTP/1.1 front ends only look them up.

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "pushgw/sim/request.hpp"

namespace pushgw::sim {

using Handler = std::function<void(const Request&, Response&, ConnectionContext&)>;

struct Route {
  std::string method;
  std::string path;           // exact path, or a prefix when `prefix`
  bool prefix = false;
  bool counted = true;        // counts in /sim/stats (service traffic, not /sim/* control)
  bool http1 = false;         // also served over HTTP/1.1 (APNs and FCM are HTTP/2 only)
  Handler handler;
};

class Router {
 public:
  void add(Route route);

  // The route for this request, or nullptr; sets *status to 404 (no path matches) or 405
  // (a path matches with another method) when nullptr.
  const Route* find(std::string_view method, std::string_view path, int* status) const;

  // Looks the request up and runs the handler; an unknown path or method gets the APNs-style
  // {"reason": "BadPath"} / {"reason": "MethodNotAllowed"}. Returns the route (nullptr if none).
  const Route* dispatch(const Request& request, Response& response, ConnectionContext& context) const;

 private:
  std::vector<Route> routes_;
};

}  // namespace pushgw::sim
