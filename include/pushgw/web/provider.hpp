#pragma once
// The provider of platform `web`: a notification's tokens are channel names, and a send
// appends the message to the channel's history (a capped Redis Stream whose ids are the
// message ids) and publishes it, in one script (queue::publish_script). Every instance's Hub
// that has sessions on the channel receives it and writes it to them. The outcome is
// `delivered` once it is in the history and published; a Redis failure is `retry`.

#include <chrono>
#include <memory>
#include <string>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "pushgw/common/async.hpp"
#include "pushgw/config/config.hpp"
#include "pushgw/provider/provider.hpp"
#include "pushgw/queue/keys.hpp"
#include "pushgw/redis/client.hpp"

namespace pushgw::web {

class Provider final : public provider::Provider {
 public:
  Provider(boost::asio::any_io_executor executor, std::string app, const config::WebConfig& web,
           redis::ClientConfig redis, const std::string& prefix);
  ~Provider() override;

  bool start(std::string* error) override;
  boost::asio::awaitable<void> stop(std::chrono::milliseconds deadline) override;
  std::shared_ptr<const provider::Prepared> prepare(const job::Notification& n) const override;
  common::Semaphore* send_permits() override { return &permits_; }
  provider::Health health() const override;

 protected:
  void send(common::Permit permit, std::shared_ptr<const provider::Prepared> prepared, const std::string& token,
            provider::SendHandler done) override;

 private:
  boost::asio::awaitable<void> publish(common::Permit permit, std::shared_ptr<const provider::Prepared> prepared,
                                       std::string channel, provider::SendHandler done);

  std::string publish_command_;  // PUBLISH, or SPUBLISH in Redis Cluster (before redis_: made from its config)
  redis::Client redis_;
  common::Semaphore permits_;
  queue::Keys keys_;
  std::string history_;
  std::string ttl_ms_;
};

}  // namespace pushgw::web
