#pragma once
// pushgw-sim's server: one TLS port serving the simulated APNs and FCM over HTTP/2 (ALPN h2),
// and the OAuth token endpoint and the /sim/* control endpoints over HTTP/2 or HTTP/1.1. Each thread runs its own io_context
// and acceptor on the same port (SO_REUSEPORT), so connections spread over the threads and
// a connection never changes thread.

#include <cstdint>
#include <memory>
#include <string>

#include "pushgw/sim/behaviour.hpp"
#include "pushgw/sim/stats.hpp"

namespace pushgw::sim {

struct ServerOptions {
  std::string listen_host = "127.0.0.1";
  std::uint16_t listen_port = 0;      // 0 = a free port; see Server::port()
  std::string cert_file;              // PEM certificate (chain) of the TLS server
  std::string key_file;               // its PEM private key
  std::string apns_key_file;          // .p8: provider tokens must be signed with it
  std::string apns_key_id;            // when set, the tokens' kid must equal it
  std::string apns_team_id;           // when set, the tokens' iss must equal it
  std::string fcm_service_account_file;  // enables FCM and OAuth: its key verifies assertions
  unsigned threads = 1;
  BehaviourValues behaviour;
};

class Server {
 public:
  explicit Server(ServerOptions options);
  ~Server();  // stop()
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Loads the TLS and APNs keys, binds, and starts the threads. Returns false and sets *error
  // (naming the option and the file) when something is unusable.
  bool start(std::string* error);
  // Closes every connection and joins the threads. Idempotent.
  void stop();

  std::uint16_t port() const;     // the bound port, once started
  Stats& stats();
  Behaviour& behaviour();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace pushgw::sim
