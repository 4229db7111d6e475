#pragma once
// GET /events (Server-Sent Events) and GET /ws (WebSocket) on the daemon's listener: each
// request is checked (client token, channels, Origin, limits, resume id) while it is still an
// ordinary HTTP request, so a refusal is a plain status; then the route takes the connection
// from the HTTP server and a session writes the channels' messages to it until the client
// leaves, falls too far behind (web.send_buffer), its token expires, or the daemon stops.
//
// A session that resumes (Last-Event-ID / last_event_id, or last_id) joins the hub first,
// holding live messages back, reads what it missed from the channels' histories, writes that,
// then the held messages newer than what it wrote: nothing lost or repeated at the seam.

#include <chrono>
#include <cstddef>
#include <memory>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "pushgw/config/config.hpp"
#include "pushgw/http/server.hpp"
#include "pushgw/metrics/pushgw_metrics.hpp"
#include "pushgw/web/hub.hpp"

namespace pushgw::web {

class Service {
 public:
  Service(boost::asio::any_io_executor executor, const config::WebConfig& config, Hub& hub,
          metrics::PushgwMetrics& metrics);
  ~Service();
  Service(const Service&) = delete;
  Service& operator=(const Service&) = delete;

  // GET /events, OPTIONS /events (CORS preflight), GET /ws.
  std::vector<http::Route> routes();

  // Closes every live connection (WebSocket close 1001 "going away", SSE streams ended) so the
  // clients reconnect elsewhere; returns when all are gone or the deadline passed.
  boost::asio::awaitable<void> shutdown(std::chrono::milliseconds deadline);

  std::size_t connections() const;

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace pushgw::web
