// Redis Cluster routing rules (see cluster_slots.hpp): no I/O.

#include "pushgw/redis/cluster_slots.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace pushgw::redis {

namespace {

// CRC16-CCITT (XMODEM: polynomial 0x1021, initial 0), as Redis's crc16.c; table built at compile time.
constexpr std::array<std::uint16_t, 256> make_crc16_table() {
  std::array<std::uint16_t, 256> table{};
  for (unsigned i = 0; i < 256; ++i) {
    std::uint16_t crc = static_cast<std::uint16_t>(i << 8);
    for (int bit = 0; bit < 8; ++bit) {
      crc = static_cast<std::uint16_t>((crc & 0x8000) ? (crc << 1) ^ 0x1021 : crc << 1);
    }
    table[i] = crc;
  }
  return table;
}
constexpr auto kCrc16Table = make_crc16_table();

std::uint16_t crc16(std::string_view bytes) {
  std::uint16_t crc = 0;
  for (unsigned char c : bytes) {
    crc = static_cast<std::uint16_t>((crc << 8) ^ kCrc16Table[((crc >> 8) ^ c) & 0xff]);
  }
  return crc;
}

bool is_one_of(std::string_view name, std::initializer_list<std::string_view> names) {
  return std::any_of(names.begin(), names.end(), [&](std::string_view n) { return is_command(name, n); });
}

std::optional<std::uint16_t> parse_slot(std::string_view text) {
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value >= kClusterSlots) return std::nullopt;
  return static_cast<std::uint16_t>(value);
}

// "host:port" with the port after the last colon (IPv6 addresses come without brackets).
std::optional<config::HostPort> parse_node(std::string_view text) {
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos) return std::nullopt;
  unsigned port = 0;
  const std::string_view digits = text.substr(colon + 1);
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
  if (ec != std::errc() || end != digits.data() + digits.size() || port == 0 || port > 65535) return std::nullopt;
  return config::HostPort{std::string(text.substr(0, colon)), static_cast<std::uint16_t>(port)};
}

}  // namespace

bool is_command(std::string_view command, std::string_view name) {
  return command.size() == name.size() && std::equal(command.begin(), command.end(), name.begin(), [](char x, char y) {
           return std::toupper(static_cast<unsigned char>(x)) == std::toupper(static_cast<unsigned char>(y));
         });
}

std::uint16_t key_slot(std::string_view key) {
  const auto open = key.find('{');
  if (open != std::string_view::npos) {
    const auto close = key.find('}', open + 1);
    if (close != std::string_view::npos && close > open + 1) key = key.substr(open + 1, close - open - 1);
  }
  return static_cast<std::uint16_t>(crc16(key) & (kClusterSlots - 1));
}

std::optional<std::size_t> routing_argument(const std::vector<std::string_view>& argv) {
  if (argv.size() < 2) return std::nullopt;
  const std::string_view name = argv[0];
  if (is_one_of(name, {"EVAL", "EVALSHA", "EVAL_RO", "EVALSHA_RO", "FCALL", "FCALL_RO"})) {
    if (argv.size() < 4 || argv[2] == "0") return std::nullopt;
    return 3;
  }
  if (is_one_of(name, {"PING", "ECHO", "MULTI", "EXEC", "DISCARD", "ASKING", "AUTH", "HELLO", "SELECT", "CLIENT",
                       "ROLE", "INFO", "SCRIPT", "FUNCTION", "CLUSTER", "SENTINEL", "CONFIG", "COMMAND", "DBSIZE",
                       "FLUSHALL", "FLUSHDB", "TIME", "WAIT", "READONLY", "READWRITE", "SUBSCRIBE", "UNSUBSCRIBE",
                       "PSUBSCRIBE", "PUNSUBSCRIBE", "PUBLISH", "PUBSUB", "SLOWLOG", "LATENCY", "MEMORY", "DEBUG",
                       "SHUTDOWN", "SAVE", "BGSAVE", "BGREWRITEAOF", "LASTSAVE", "RANDOMKEY", "SCAN", "KEYS",
                       "MONITOR", "QUIT", "RESET", "SWAPDB", "MODULE", "ACL", "FAILOVER", "REPLICAOF", "SLAVEOF"})) {
    return std::nullopt;
  }
  if (is_one_of(name, {"XINFO", "OBJECT"})) return argv.size() >= 3 ? std::optional<std::size_t>(2) : std::nullopt;
  return 1;
}

std::optional<Redirect> parse_redirect(const Reply& reply) {
  if (!reply.is_error()) return std::nullopt;
  const std::string_view text = reply.str;
  const auto word_end = text.find(' ');
  const std::string_view word = text.substr(0, word_end);
  if (word == "TRYAGAIN") return Redirect{Redirect::Kind::try_again, 0, {}};
  if (word == "CLUSTERDOWN") return Redirect{Redirect::Kind::cluster_down, 0, {}};
  if (word != "MOVED" && word != "ASK") return std::nullopt;
  if (word_end == std::string_view::npos) return std::nullopt;
  const std::string_view rest = text.substr(word_end + 1);
  const auto space = rest.find(' ');
  if (space == std::string_view::npos) return std::nullopt;
  const auto slot = parse_slot(rest.substr(0, space));
  auto node = parse_node(rest.substr(space + 1));
  if (!slot || !node) return std::nullopt;
  return Redirect{word == "MOVED" ? Redirect::Kind::moved : Redirect::Kind::ask, *slot, std::move(*node)};
}

SlotMapResult parse_cluster_slots(const Reply& reply, const config::HostPort& asked) {
  SlotMapResult out;
  if (reply.is_error()) {
    out.error = "CLUSTER SLOTS answered \"" + reply.str + "\"";
    return out;
  }
  if (reply.type != Reply::Type::array) {
    out.error = "CLUSTER SLOTS answered something other than a list of slot ranges";
    return out;
  }
  for (std::size_t i = 0; i < reply.elements.size(); ++i) {
    const Reply& range = reply.elements[i];
    const auto bad = [&](const std::string& what) {
      out.ranges.clear();
      out.error = "CLUSTER SLOTS range " + std::to_string(i) + ": " + what;
      return out;
    };
    if (range.type != Reply::Type::array || range.elements.size() < 3) return bad("not [first, last, master, ...]");
    const Reply& first = range.elements[0];
    const Reply& last = range.elements[1];
    const Reply& master = range.elements[2];
    if (first.type != Reply::Type::integer || last.type != Reply::Type::integer || first.integer < 0 ||
        last.integer < first.integer || last.integer >= static_cast<std::int64_t>(kClusterSlots)) {
      return bad("not a slot range within 0-16383");
    }
    if (master.type != Reply::Type::array || master.elements.size() < 2 ||
        master.elements[0].type != Reply::Type::string || master.elements[1].type != Reply::Type::integer ||
        master.elements[1].integer <= 0 || master.elements[1].integer > 65535) {
      return bad("the master is not [host, port, ...]");
    }
    std::string host = master.elements[0].str;
    if (host.empty() || host == "?") host = asked.host;
    out.ranges.push_back(SlotRange{static_cast<std::uint16_t>(first.integer), static_cast<std::uint16_t>(last.integer),
                                   config::HostPort{std::move(host), static_cast<std::uint16_t>(master.elements[1].integer)}});
  }
  if (out.ranges.empty()) out.error = "CLUSTER SLOTS answered no slot ranges (no slot is assigned to a master yet)";
  return out;
}

SlotMap::SlotMap() { owner_.fill(-1); }

std::size_t SlotMap::index_of(const config::HostPort& master) {
  const auto it = std::find(masters_.begin(), masters_.end(), master);
  if (it != masters_.end()) return static_cast<std::size_t>(it - masters_.begin());
  masters_.push_back(master);
  return masters_.size() - 1;
}

void SlotMap::assign(const std::vector<SlotRange>& ranges) {
  masters_.clear();
  owner_.fill(-1);
  covered_ = 0;
  for (const SlotRange& range : ranges) {
    const auto index = static_cast<std::int16_t>(index_of(range.master));
    for (std::size_t slot = range.first; slot <= range.last; ++slot) {
      if (owner_[slot] < 0) ++covered_;
      owner_[slot] = index;
    }
  }
}

void SlotMap::move(std::uint16_t slot, const config::HostPort& master) {
  if (owner_[slot] < 0) ++covered_;
  owner_[slot] = static_cast<std::int16_t>(index_of(master));
}

const config::HostPort* SlotMap::master_of(std::uint16_t slot) const {
  const std::int16_t index = owner_[slot];
  return index < 0 ? nullptr : &masters_[static_cast<std::size_t>(index)];
}

}  // namespace pushgw::redis
