#pragma once
// Redis Cluster behind redis::Client (a Client whose config names cluster_nodes owns one):
// it reads the slot map from the seeds (CLUSTER SLOTS), keeps one single-server Client per
// master (so each node gets its own pipeline) and sends each command to its slot's master.
// MOVED updates the map and resends to the new master (and a refresh reads the whole map
// again), ASK resends once to the importing node after ASKING, TRYAGAIN and CLUSTERDOWN are
// resent after a short backoff. Only the commands that were redirected are resent: a
// redirected command did not run. MULTI ... EXEC travels as one unit (to the slot of its first
// key; Redis refuses one that spans slots with CROSSSLOT).
//
// Internal to the redis module: callers use Client.

#include <memory>
#include <string>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "pushgw/redis/client.hpp"

namespace pushgw::redis {

class ClusterRouter {
 public:
  ClusterRouter(boost::asio::any_io_executor executor, ClientConfig config);
  ~ClusterRouter();
  ClusterRouter(const ClusterRouter&) = delete;
  ClusterRouter& operator=(const ClusterRouter&) = delete;

  void start();
  void stop();
  boost::asio::awaitable<Result> exec(Request request);
  bool connected() const;
  boost::system::error_code last_error() const;
  std::string last_error_text() const;
  std::string server() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace pushgw::redis
