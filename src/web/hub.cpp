#include "pushgw/web/hub.hpp"

#include <algorithm>
#include <utility>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <spdlog/spdlog.h>

#include "pushgw/common/clock.hpp"
#include "pushgw/queue/scripts.hpp"

namespace pushgw::web {

namespace asio = boost::asio;
using boost::system::error_code;

const std::string& Message::sse() const {
  if (!sse_) sse_ = std::make_shared<const std::string>(sse_message(id.to_string(), "notification", *json));
  return *sse_;
}

Message make_message(StreamId id, std::string channel, std::string_view notification_json) {
  Message m;
  m.id = id;
  m.json = std::make_shared<const std::string>(message_json(id.to_string(), channel, notification_json));
  m.channel = std::move(channel);
  return m;
}

std::optional<Message> parse_published(std::string_view channel, std::string_view payload) {
  const std::size_t space = payload.find(' ');
  if (space == std::string_view::npos) return std::nullopt;
  const auto id = parse_stream_id(payload.substr(0, space));
  if (!id) return std::nullopt;
  return make_message(*id, std::string(channel), payload.substr(space + 1));
}

Hub::Hub(asio::any_io_executor executor, redis::ClientConfig subscriber, redis::Client& reader, queue::Keys keys)
    : executor_(executor),
      keys_(std::move(keys)),
      key_prefix_(keys_.web_channel("")),
      sharded_(!subscriber.cluster_nodes.empty()),
      subscriber_(executor,
                  [&] {
                    subscriber.on_push = [this](const redis::Reply& reply) { on_push(reply); };
                    subscriber.on_connected = [this] { on_connected(); };
                    return std::move(subscriber);
                  }()),
      reader_(reader),
      alive_(std::make_shared<bool>(true)) {
  key_prefix_.pop_back();  // web_channel("") is "<prefix>:web:{}"
}

Hub::~Hub() {
  *alive_ = false;
  stop();
}

void Hub::start() { subscriber_.start(); }

void Hub::stop() { subscriber_.stop(); }

bool Hub::connected() const { return subscriber_.connected(); }

std::string_view Hub::channel_of_key(std::string_view key) const {
  if (key.size() <= key_prefix_.size() + 1 || !key.starts_with(key_prefix_) || key.back() != '}') return {};
  return key.substr(key_prefix_.size(), key.size() - key_prefix_.size() - 1);
}

void Hub::on_push(const redis::Reply& reply) {
  // ["message", key, "<id> <json>"] or ["smessage", ...]; or ["sunsubscribe", key, count] when
  // the channel's slot moved to another master (Redis Cluster): subscribe there.
  const std::string_view channel_name = channel_of_key(reply.elements[1].str);
  auto it = channels_.find(std::string(channel_name));
  if (it == channels_.end()) return;  // unsubscribed meanwhile
  if (reply.elements[0].str == "sunsubscribe") {
    it->second.subscribed = false;
    spdlog::info("web: channel {} moved to another Redis Cluster master; subscribing there", it->first);
    asio::co_spawn(executor_, resubscribe(std::vector<std::string>{it->first}), asio::detached);
    return;
  }
  auto message = parse_published(channel_name, reply.elements[2].str);
  if (!message) {
    spdlog::warn("web: ignored a message on {} that the publish script did not write", reply.elements[1].str);
    return;
  }
  deliver(it->second, *message);
}

void Hub::deliver(Channel& channel, const Message& message) {
  if (channel.delivered && message.id <= channel.last) return;  // caught up already
  channel.last = message.id;
  channel.delivered = true;
  // A copy: a session may leave (and so change the set) from deliver().
  const std::vector<Session*> sessions(channel.sessions.begin(), channel.sessions.end());
  for (Session* session : sessions) session->deliver(message);
}

void Hub::on_connected() {
  // In Cluster mode this is one master's connection; subscribing again to channels another
  // master serves is redundant but harmless (Redis confirms a repeated SSUBSCRIBE the same).
  std::vector<std::string> names;
  for (auto& [name, channel] : channels_) {
    channel.subscribed = false;
    names.push_back(name);
  }
  if (names.empty()) return;
  asio::co_spawn(executor_, resubscribe(std::move(names)), asio::detached);
}

// After a new subscriber connection (or a channel's move): subscribe again, then deliver what
// was published while there was none, from each channel's history.
asio::awaitable<void> Hub::resubscribe(std::vector<std::string> names) {
  auto alive = alive_;
  if (error_code ec = co_await subscribe(names)) co_return;  // the next connection tries again
  if (!*alive) co_return;
  std::size_t caught_up = 0;
  for (const std::string& name : names) {
    auto it = channels_.find(name);
    if (it == channels_.end()) continue;
    // Without a message seen yet, from shortly before the channel got its first session.
    const StreamId after = it->second.delivered ? it->second.last
                                                : StreamId{static_cast<std::uint64_t>(std::max<std::int64_t>(
                                                               it->second.since_ms - 1000, 0)),
                                                           0};
    const std::vector<std::string> one{name};
    ReplayResult missed = co_await replay(one, after);
    if (!*alive || missed.ec) co_return;
    it = channels_.find(name);
    if (it == channels_.end()) continue;
    for (const Message& m : missed.messages) {
      deliver(it->second, m);
      ++caught_up;
    }
  }
  spdlog::info("web: subscribed again to {} channel(s); {} message(s) published meanwhile delivered from history",
               names.size(), caught_up);
}

asio::awaitable<error_code> Hub::subscribe(std::vector<std::string> channels) {
  if (channels.empty()) co_return error_code{};
  redis::Request request;
  for (const std::string& name : channels) request.push(sharded_ ? "SSUBSCRIBE" : "SUBSCRIBE", keys_.web_channel(name));
  redis::Result result = co_await subscriber_.exec(std::move(request));
  if (result.ec) co_return result.ec;
  for (std::size_t i = 0; i < channels.size(); ++i) {
    if (result.replies[i].is_error()) co_return redis::make_error_code(redis::error::unexpected_reply);
    auto it = channels_.find(channels[i]);
    if (it != channels_.end()) it->second.subscribed = true;
  }
  co_return error_code{};
}

void Hub::unsubscribe(std::string channel) {
  asio::co_spawn(
      executor_,
      [this, alive = alive_, key = keys_.web_channel(channel)]() -> asio::awaitable<void> {
        if (!*alive) co_return;
        redis::Request request;
        request.push(sharded_ ? "SUNSUBSCRIBE" : "UNSUBSCRIBE", key);
        co_await subscriber_.exec(std::move(request));  // lost with the connection otherwise
      },
      asio::detached);
}

asio::awaitable<error_code> Hub::join(Session* session, std::vector<std::string> channels) {
  auto alive = alive_;
  std::vector<std::string> to_subscribe;
  for (const std::string& name : channels) {
    auto [it, added] = channels_.try_emplace(name);
    if (added) it->second.since_ms = common::system_unix_ms();
    it->second.sessions.insert(session);
    if (!it->second.subscribed) to_subscribe.push_back(name);
  }
  sessions_[session] = channels;
  // Two sessions may ask for one channel at once: Redis answers a second SUBSCRIBE all the same.
  const error_code ec = co_await subscribe(std::move(to_subscribe));
  if (ec && *alive) leave(session);
  co_return ec;
}

void Hub::leave(Session* session) {
  auto found = sessions_.find(session);
  if (found == sessions_.end()) return;
  for (const std::string& name : found->second) {
    auto it = channels_.find(name);
    if (it == channels_.end()) continue;
    it->second.sessions.erase(session);
    if (it->second.sessions.empty()) {
      channels_.erase(it);
      unsubscribe(name);
    }
  }
  sessions_.erase(found);
}

// One id is given for all the channels, but ids are per channel: two channels may hold a
// message with that very id (published in the same millisecond). The client has the one in
// the channel that holds it; when several do, it may lack the others, so they are sent again:
// at worst a repeat (clients tell messages apart by channel and id), never a loss.
asio::awaitable<ReplayResult> Hub::replay(const std::vector<std::string>& channels, StreamId after) {
  ReplayResult result;
  const std::vector<std::string> args{after.to_string()};
  std::vector<std::string> holding_after;  // channels whose history holds `after` itself
  for (const std::string& name : channels) {
    const std::vector<std::string> keys{keys_.web_channel(name)};
    auto [ec, reply] = co_await queue::eval_script(reader_, queue::replay_after_script(), keys, args);
    if (ec) {
      result.ec = ec;
      co_return result;
    }
    if (reply.type != redis::Reply::Type::array || reply.elements.empty()) {
      result.ec = redis::make_error_code(redis::error::unexpected_reply);
      co_return result;
    }
    if (reply.elements.size() < 2) {
      result.ec = redis::make_error_code(redis::error::unexpected_reply);
      co_return result;
    }
    if (reply.elements[0].integer != 0) result.gap = true;
    if (reply.elements[1].integer != 0) holding_after.push_back(name);
    for (std::size_t i = 2; i + 1 < reply.elements.size(); i += 2) {
      if (auto id = parse_stream_id(reply.elements[i].str)) {
        result.messages.push_back(make_message(*id, name, reply.elements[i + 1].str));
      }
    }
  }
  if (holding_after.size() == 1) {
    std::erase_if(result.messages,
                  [&](const Message& m) { return m.id == after && m.channel == holding_after.front(); });
  }
  std::stable_sort(result.messages.begin(), result.messages.end(),
                   [](const Message& a, const Message& b) { return a.id < b.id; });
  co_return result;
}

}  // namespace pushgw::web
