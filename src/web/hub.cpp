#include "pushgw/web/hub.hpp"

#include <algorithm>
#include <utility>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/dispatch.hpp>
#include <spdlog/spdlog.h>

#include "pushgw/common/clock.hpp"
#include "pushgw/queue/scripts.hpp"

namespace pushgw::web {

namespace asio = boost::asio;
using boost::system::error_code;

namespace {

// A channel's entry for `group` in its list of groups and their session counts.
using GroupCounts = std::vector<std::pair<SessionGroup*, std::size_t>>;
GroupCounts::iterator find_group(GroupCounts& groups, const SessionGroup& group) {
  return std::find_if(groups.begin(), groups.end(), [&](const auto& entry) { return entry.first == &group; });
}

}  // namespace

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
  message.sse();  // built here once, not by each group
  for (const auto& [group, count] : channel.groups) {
    // Inline when the group runs on this thread; else queued to it, in order after its join.
    asio::dispatch(group->executor(), [group, message] { group->deliver(message); });
  }
}

// ---- SessionGroup ----

void SessionGroup::add(Session* session, const std::vector<std::string>& channels) {
  for (const std::string& name : channels) {
    Members& members = channels_[name];
    members.changed |= members.set.insert(session).second;
  }
}

void SessionGroup::remove(Session* session, const std::vector<std::string>& channels) {
  for (const std::string& name : channels) {
    auto it = channels_.find(name);
    if (it == channels_.end()) continue;
    it->second.changed |= it->second.set.erase(session) > 0;
    if (it->second.set.empty()) channels_.erase(it);
  }
}

void SessionGroup::deliver(const Message& message) {
  auto it = channels_.find(message.channel);
  if (it == channels_.end()) return;
  Members& members = it->second;
  if (members.changed) {
    members.list.assign(members.set.begin(), members.set.end());
    members.changed = false;
  }
  // A session never leaves from deliver() (it only marks itself closing and ends later, on its
  // own coroutine), so the list stands for the walk.
  for (Session* session : members.list) session->deliver(message);
}

std::size_t SessionGroup::sessions_of(const std::string& channel) const {
  auto it = channels_.find(channel);
  return it == channels_.end() ? 0 : it->second.set.size();
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

asio::awaitable<error_code> Hub::join(Session* session, SessionGroup& group, std::vector<std::string> channels) {
  auto alive = alive_;
  std::vector<std::string> to_subscribe;
  for (const std::string& name : channels) {
    auto [it, added] = channels_.try_emplace(name);
    if (added) it->second.since_ms = common::system_unix_ms();
    auto& groups = it->second.groups;
    auto g = find_group(groups, group);
    if (g == groups.end()) groups.emplace_back(&group, 1);
    else ++g->second;
    if (!it->second.subscribed) to_subscribe.push_back(name);
  }
  // Queued to the group before any message the hub hands it from now on.
  asio::dispatch(group.executor(), [&group, session, channels] { group.add(session, channels); });
  // Two sessions may ask for one channel at once: Redis answers a second SUBSCRIBE all the same.
  const error_code ec = co_await subscribe(std::move(to_subscribe));
  if (ec && *alive) {
    asio::dispatch(group.executor(), [this, session, &group, channels, alive] {
      if (*alive) leave(session, group, channels);
    });
  }
  co_return ec;
}

void Hub::leave(Session* session, SessionGroup& group, const std::vector<std::string>& channels) {
  group.remove(session, channels);
  asio::dispatch(executor_, [this, &group, channels, alive = alive_] {
    if (*alive) release(group, channels);
  });
}

void Hub::release(SessionGroup& group, const std::vector<std::string>& channels) {
  for (const std::string& name : channels) {
    auto it = channels_.find(name);
    if (it == channels_.end()) continue;
    auto& groups = it->second.groups;
    auto g = find_group(groups, group);
    if (g == groups.end()) continue;
    if (--g->second == 0) groups.erase(g);
    if (groups.empty()) {
      channels_.erase(it);
      unsubscribe(name);
    }
  }
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
