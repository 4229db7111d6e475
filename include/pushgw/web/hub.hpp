#pragma once
// The live side of platform web on one instance: which sessions (SSE and WebSocket clients)
// read which channels, one Redis subscription per channel with sessions here (not one per
// session), and the fan-out of each published message to them.
//
//   join(session, group, channels)  subscribes the channels new to this instance and completes
//                                   when Redis has confirmed them: every message published from
//                                   then on reaches the session through deliver()
//   leave(session, group, channels) unsubscribes the channels it was the last session of
//   replay(channels, after)         what was published after a message id (a client that resumes)
//
// Messages are deduplicated per channel by id, so the catch-up after a lost subscriber
// connection (re-read from the channel's history) never delivers one twice.
//
// Threading: the hub runs on its executor (the daemon's main thread). Sessions live in
// SessionGroups, one per thread that writes to live connections (web.threads): the hub hands
// a message once to each group that has sessions of its channel, and the group walks its own
// sessions on its own thread, so a fan-out to many clients is spread over those threads.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/system/error_code.hpp>

#include "pushgw/queue/keys.hpp"
#include "pushgw/redis/client.hpp"
#include "pushgw/web/request.hpp"

namespace pushgw::web {

// One message of a channel, as every session of this instance receives it: its text is built
// once per instance, not per session.
struct Message {
  StreamId id;
  std::string channel;
  // {"id":"..","channel":"..","notification":{..}}: a WebSocket frame, and the data of an SSE event.
  std::shared_ptr<const std::string> json;
  // The whole SSE event ("id: ..\nevent: notification\ndata: ..\n\n"), made on first use.
  const std::string& sse() const;

 private:
  mutable std::shared_ptr<const std::string> sse_;
};

// Builds a Message from the channel and what the publish script published ("<id> <json>");
// nullopt when the payload is not that.
std::optional<Message> parse_published(std::string_view channel, std::string_view payload);
Message make_message(StreamId id, std::string channel, std::string_view notification_json);

// A live client connection, as the hub sees it.
class Session {
 public:
  virtual ~Session() = default;
  // A message of one of the session's channels. Must not block; called on its group's executor.
  virtual void deliver(const Message& message) = 0;
};

// The sessions of one thread, by channel. Everything but executor() on that executor.
class SessionGroup {
 public:
  explicit SessionGroup(boost::asio::any_io_executor executor) : executor_(std::move(executor)) {}
  SessionGroup(const SessionGroup&) = delete;
  SessionGroup& operator=(const SessionGroup&) = delete;

  const boost::asio::any_io_executor& executor() const { return executor_; }
  void add(Session* session, const std::vector<std::string>& channels);
  void remove(Session* session, const std::vector<std::string>& channels);
  // To every session of the message's channel here.
  void deliver(const Message& message);
  std::size_t sessions_of(const std::string& channel) const;

 private:
  struct Members {
    std::unordered_set<Session*> set;
    std::vector<Session*> list;  // the set as walked by deliver(), rebuilt after a change
    bool changed = false;
  };
  boost::asio::any_io_executor executor_;
  std::unordered_map<std::string, Members> channels_;
};

struct ReplayResult {
  boost::system::error_code ec;  // Redis could not be asked
  bool gap = false;              // a message after `after` is no longer in some channel's history
  std::vector<Message> messages; // oldest first (by id across the channels)
};

class Hub {
 public:
  // `subscriber`: a connection of its own for SUBSCRIBE (the hub sets its on_push and
  // on_connected); `reader`: a shared client for reading histories.
  Hub(boost::asio::any_io_executor executor, redis::ClientConfig subscriber, redis::Client& reader,
      queue::Keys keys);
  ~Hub();
  Hub(const Hub&) = delete;
  Hub& operator=(const Hub&) = delete;

  void start();
  void stop();

  // Adds the session to the channels, in `group`; see above. On the hub's executor. An error
  // when Redis did not confirm (the session is then not added anywhere).
  boost::asio::awaitable<boost::system::error_code> join(Session* session, SessionGroup& group,
                                                         std::vector<std::string> channels);
  // Takes the session out of `group` at once, and lets the hub know: call it on the group's
  // executor, with the channels it joined.
  void leave(Session* session, SessionGroup& group, const std::vector<std::string>& channels);

  boost::asio::awaitable<ReplayResult> replay(const std::vector<std::string>& channels, StreamId after);

  // The subscriber connection is up.
  bool connected() const;
  std::size_t channels() const { return channels_.size(); }

 private:
  struct Channel {
    // The groups with sessions of this channel, and how many sessions each.
    std::vector<std::pair<SessionGroup*, std::size_t>> groups;
    StreamId last{};            // the newest message delivered here
    bool delivered = false;     // last is set
    bool subscribed = false;    // Redis confirmed the subscription on the current connection
    std::int64_t since_ms = 0;  // when the channel got its first session (local clock)
  };

  void on_push(const redis::Reply& reply);
  void on_connected();
  void deliver(Channel& channel, const Message& message);
  // The hub's side of leave(): the channels `group` has one session fewer of.
  void release(SessionGroup& group, const std::vector<std::string>& channels);
  // Subscribes to `names` again and delivers what they missed meanwhile from their histories.
  boost::asio::awaitable<void> resubscribe(std::vector<std::string> names);
  boost::asio::awaitable<boost::system::error_code> subscribe(std::vector<std::string> channels);
  void unsubscribe(std::string channel);
  std::string_view channel_of_key(std::string_view key) const;

  boost::asio::any_io_executor executor_;
  queue::Keys keys_;
  std::string key_prefix_;  // "<prefix>:web:{"
  // Redis Cluster: sharded pub/sub (SSUBSCRIBE on the master of the channel's slot, which the
  // publish script SPUBLISHes to) instead of SUBSCRIBE, which every node would relay.
  bool sharded_ = false;
  redis::Client subscriber_;
  redis::Client& reader_;
  std::unordered_map<std::string, Channel> channels_;
  std::shared_ptr<bool> alive_;  // for coroutines spawned by the hub
};

}  // namespace pushgw::web
