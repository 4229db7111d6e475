#pragma once
// A pushgw-sim server running in-process on a free loopback port (real TLS, real HTTP/2),
// with the h2 client settings to reach it and helpers to build APNs requests and to run
// coroutines to completion (support/asio_wait.hpp). Shared by tests/sim and tests/h2.

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <future>
#include <map>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>

#include <boost/asio.hpp>

#include "pushgw/h2/connection.hpp"
#include "pushgw/h2/pool.hpp"
#include "pushgw/sim/server.hpp"
#include "sim/tls_fixture.hpp"
#include "support/asio_wait.hpp"

namespace pushgw::testing {

inline constexpr const char* test_key_id = "TEST123456";
inline constexpr const char* test_team_id = "TEAM123456";
inline constexpr const char* test_topic = "com.example.app";
inline constexpr const char* test_payload = R"({"aps":{"alert":"hello"}})";

// A valid device token (64 hex digits) that selects no special outcome: "ab" + n in hex.
inline std::string device_token(unsigned long n) {
  char text[65];
  std::snprintf(text, sizeof text, "ab%062lx", n);
  return text;
}

// A token with a chosen outcome prefix, e.g. outcome_token("0410").
inline std::string outcome_token(const std::string& prefix) {
  return prefix + std::string(64 - prefix.size(), '1');
}

// Sends every request at once on `client` (a Connection or a Pool) and collects the results.
// One request through `client`, a Connection or a Pool (whose requests then wait for one of its
// permits). `request` must outlive a deferred operation (co_await it in the same expression).
template <class Client, class RequestRef, class CompletionToken>
auto send_request(Client& client, RequestRef&& request, CompletionToken&& completion) {
  if constexpr (std::is_same_v<Client, h2::Pool>) {
    return client.async_request({}, std::forward<RequestRef>(request), std::forward<CompletionToken>(completion));
  } else {
    return client.async_request(request, std::forward<CompletionToken>(completion));
  }
}

template <class Client>
boost::asio::awaitable<std::vector<h2::Result>> send_concurrently(
    Client& client, std::vector<h2::Request> requests) {
  auto ex = co_await boost::asio::this_coro::executor;
  std::vector<h2::Result> results(requests.size());
  std::size_t remaining = requests.size();
  boost::asio::steady_timer all_done(ex, std::chrono::steady_clock::time_point::max());
  for (std::size_t i = 0; i < requests.size(); ++i) {
    boost::asio::co_spawn(
        ex,
        [&, i]() -> boost::asio::awaitable<void> {
          results[i] = co_await send_request(client, requests[i], boost::asio::use_awaitable);
          if (--remaining == 0) all_done.cancel();
        },
        boost::asio::detached);
  }
  while (remaining > 0) {
    co_await all_done.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
  }
  co_return results;
}

inline boost::asio::awaitable<void> sleep_for(std::chrono::milliseconds duration) {
  boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor, duration);
  co_await timer.async_wait(boost::asio::use_awaitable);
}

// What submit_all saw besides the results.
struct SubmitRecord {
  std::vector<h2::Result> results;
  std::vector<int> calls;        // handler calls per request: 1 each when all is well
  int calls_inside_submit = 0;   // handler calls made before async_request() returned
};

// Submits every request at once through `client.async_request` with a plain callback (a
// Connection or a Pool, on this coroutine's executor) and waits until every handler has run.
template <class Client>
boost::asio::awaitable<SubmitRecord> submit_all(Client& client, std::vector<h2::Request> requests) {
  auto ex = co_await boost::asio::this_coro::executor;
  SubmitRecord record;
  record.results.resize(requests.size());
  record.calls.resize(requests.size());
  std::size_t remaining = requests.size();
  bool inside = false;
  boost::asio::steady_timer all_done(ex, std::chrono::steady_clock::time_point::max());
  for (std::size_t i = 0; i < requests.size(); ++i) {
    inside = true;
    send_request(client, std::move(requests[i]), [&, i](h2::Result result) {
      if (inside) ++record.calls_inside_submit;
      if (record.calls[i]++ == 0 && --remaining == 0) all_done.cancel();
      record.results[i] = std::move(result);
    });
    inside = false;
  }
  while (remaining > 0) {
    co_await all_done.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
  }
  co_await sleep_for(std::chrono::milliseconds(50));  // a second call would show up here
  co_return record;
}

// Results by outcome: "200", "410", ... or the error message.
inline std::map<std::string, int> count_outcomes(const std::vector<h2::Result>& results) {
  std::map<std::string, int> counts;
  for (const auto& result : results) {
    ++counts[result.ec ? result.ec.message() : std::to_string(result.response.status)];
  }
  return counts;
}

// Default behaviour with `change` applied, e.g. behaviour([](auto& b) { b.latency_ms = 5; }).
sim::BehaviourValues behaviour(auto&& change) {
  sim::BehaviourValues values;
  change(values);
  return values;
}

class SimServer {
 public:
  explicit SimServer(sim::BehaviourValues behaviour = {}, unsigned threads = 1) {
    sim::ServerOptions options;
    options.listen_host = "127.0.0.1";
    options.listen_port = 0;
    options.cert_file = pki.cert_file;
    options.key_file = pki.key_file;
    options.apns_key_file = pki.apns_key_file;
    options.apns_key_id = test_key_id;
    options.apns_team_id = test_team_id;
    options.fcm_service_account_file = pki.fcm_service_account_file;
    options.threads = threads;
    options.behaviour = behaviour;
    server = std::make_unique<sim::Server>(options);
    std::string error;
    if (!server->start(&error)) throw std::runtime_error("sim did not start: " + error);
  }

  // Client settings that trust the sim's certificate.
  h2::ConnectionConfig client_config() const {
    h2::ConnectionConfig config;
    config.host = "127.0.0.1";
    config.port = server->port();
    config.ca_file = pki.cert_file;
    config.connect_timeout = std::chrono::seconds(10);
    config.request_timeout = std::chrono::seconds(30);
    return config;
  }

  std::string provider_token() const {
    return "bearer " + sign_provider_token(pki.apns_key_pem, test_key_id, test_team_id, unix_now());
  }

  // A request APNs accepts (all headers set), for `token`.
  h2::Request apns_request(const std::string& token, std::string payload = test_payload) const {
    h2::Request request;
    request.method = "POST";
    request.path = "/3/device/" + token;
    request.headers = {
        {"authorization", authorization},
        {"apns-topic", test_topic},
        {"apns-push-type", "alert"},
        {"apns-priority", "10"},
        {"apns-expiration", "0"},
        {"apns-collapse-id", "group-1"},
    };
    request.body = std::move(payload);
    return request;
  }

  sim::StatsSnapshot stats() const { return server->stats().snapshot(); }

  TestPki pki;
  std::unique_ptr<sim::Server> server;
  std::string authorization = provider_token();
};

}  // namespace pushgw::testing
