// YAML → Config. The tree is walked once; every problem becomes a ConfigError with the key
// path and line, and walking goes on so one run reports all of them. Each section lists its
// keys once (a Field table), which drives both reading and the unknown-key check.

#include "pushgw/config/config.hpp"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <initializer_list>
#include <limits>
#include <set>
#include <sstream>
#include <string_view>
#include <system_error>
#include <utility>

#include "pushgw/common/url.hpp"
#include "text.hpp"

namespace pushgw::config {

using detail::in_quotes;

namespace {

namespace fs = std::filesystem;

// A file named by the config (ca_file, key_file, ...); load_config checks that it is readable.
struct FileReference {
  std::string path;  // key path
  int line = 0;
  std::string file;  // after resolution against the base directory
};

// A node of the tree and where it is: `line` is the line of its key, or of the element in a
// list, which is where a reader looks (yaml-cpp puts an empty value on the following line).
struct Value {
  YAML::Node node;
  std::string path;
  int line = 0;
};

int line_of(const YAML::Node& node) {
  const YAML::Mark mark = node.Mark();
  return mark.is_null() ? 0 : mark.line + 1;
}

std::string join_path(const std::string& parent, std::string_view key) {
  return parent.empty() ? std::string(key) : parent + "." + std::string(key);
}

// What a node is, for "got ..." in messages. A scalar's text is not shown: it may be a secret.
std::string describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map: return "a mapping";
    case YAML::NodeType::Sequence: return "a list";
    case YAML::NodeType::Scalar: return "a single value";
    default: return "no value";
  }
}

// Optimal string alignment distance: insertions, deletions, substitutions and swaps of two
// neighbouring characters each cost 1, so "conections" and "connetcions" are both 1 away.
std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
  for (std::size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (std::size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

// The closest candidate within edit distance 2, if any ("conections" → "connections").
std::optional<std::string_view> closest(std::string_view word,
                                        const std::vector<std::string_view>& candidates) {
  std::optional<std::string_view> best;
  std::size_t best_distance = 3;
  for (std::string_view candidate : candidates) {
    const std::size_t distance = edit_distance(word, candidate);
    if (distance < best_distance && distance < std::max(word.size(), candidate.size())) {
      best = candidate;
      best_distance = distance;
    }
  }
  return best;
}

std::string join(const std::vector<std::string_view>& words, std::string_view separator) {
  std::string out;
  for (std::string_view word : words) {
    if (!out.empty()) out += separator;
    out += word;
  }
  return out;
}

// Letters, digits and the given punctuation only; these names end up in Redis keys, metric
// labels and log lines.
bool is_simple_name(std::string_view text, std::string_view punctuation) {
  if (text.empty()) return false;
  for (char c : text) {
    if (!detail::is_ascii_alnum(c) && punctuation.find(c) == std::string_view::npos) return false;
  }
  return true;
}

// One key of a mapping and how to read its value.
struct Field {
  std::string_view key;
  std::function<void(const Value&)> read;
};

// Reads typed values out of the tree and collects the errors.
class TreeReader {
 public:
  TreeReader(EnvLookup env, std::string base_dir) : env_(env), base_dir_(std::move(base_dir)) {}

  void error(const std::string& path, int line, std::string message) {
    errors_.push_back(ConfigError{path, line, std::move(message)});
    failed_.insert(path);
  }
  // Whether an error was reported for exactly this key path.
  bool failed(const std::string& path) const { return failed_.count(path) > 0; }
  // The line of a key that was present in the file, else `fallback`.
  int line(const std::string& path, int fallback) const {
    const auto it = lines_.find(path);
    return it == lines_.end() ? fallback : it->second;
  }
  bool present(const std::string& path) const { return lines_.count(path) > 0; }

  std::vector<ConfigError> take_errors() { return std::move(errors_); }
  std::vector<FileReference> take_files() { return std::move(files_); }

  // Calls `each` for every entry of a mapping, in file order, after checking that keys are
  // plain text and not repeated. A key with no value at all (`redis:`) is an empty mapping.
  // Returns false when the value is not a mapping.
  bool for_each_entry(const Value& map,
                      const std::function<void(const std::string& key, const Value&)>& each) {
    if (map.node.IsNull()) return true;
    if (!map.node.IsMap()) {
      error(map.path, map.line, "must be a mapping (indented \"key: value\" lines), got " +
                                    describe(map.node));
      return false;
    }
    std::map<std::string, int> first_lines;
    for (const auto& entry : map.node) {
      const YAML::Node& key_node = entry.first;
      const int key_line = line_of(key_node);
      if (!key_node.IsScalar()) {
        error(map.path, key_line, "keys must be plain text, got " + describe(key_node));
        continue;
      }
      const std::string key = key_node.Scalar();
      const std::string path = join_path(map.path, key);
      const auto [it, inserted] = first_lines.emplace(key, key_line);
      if (!inserted) {
        error(path, key_line,
              "duplicate key " + in_quotes(key) + " (first on line " + std::to_string(it->second) + ")");
        continue;
      }
      lines_[path] = key_line;
      each(key, Value{entry.second, path, key_line});
    }
    return true;
  }

  // Calls `each` for every item of a list, as a Value named "<path>[i]" with its own line.
  // Returns false, reporting "must be <expected>", when the value is not a list.
  bool for_each_item(const Value& list, const std::string& expected, const std::function<void(const Value&)>& each) {
    if (!list.node.IsSequence()) {
      error(list.path, list.line, "must be " + expected + ", got " + describe(list.node));
      return false;
    }
    for (std::size_t i = 0; i < list.node.size(); ++i) {
      const YAML::Node item = list.node[i];
      const int item_line = line_of(item);
      each(Value{item, list.path + "[" + std::to_string(i) + "]", item_line > 0 ? item_line : list.line});
    }
    return true;
  }

  // A mapping with a fixed set of keys; unknown keys are errors with a suggestion.
  bool read_map(const Value& map, const std::vector<Field>& fields) {
    std::vector<std::string_view> known;
    for (const Field& field : fields) known.push_back(field.key);
    return for_each_entry(map, [&](const std::string& key, const Value& value) {
      for (const Field& field : fields) {
        if (field.key == key) {
          field.read(value);
          return;
        }
      }
      std::string message = "unknown key " + in_quotes(key);
      if (const auto suggestion = closest(key, known)) {
        message += "; did you mean " + in_quotes(*suggestion) + "?";
      } else {
        message += "; expected one of: " + join(known, ", ");
      }
      error(value.path, value.line, std::move(message));
    });
  }

  // The text of a scalar after ${VAR} substitution; other node types are errors.
  std::optional<std::string> text(const Value& v, std::string_view expected) {
    if (v.node.IsNull()) {
      error(v.path, v.line,
            "has no value; expected " + std::string(expected) + " (remove the key to keep the default)");
      return std::nullopt;
    }
    if (!v.node.IsScalar()) {
      error(v.path, v.line, "must be " + std::string(expected) + ", got " + describe(v.node));
      return std::nullopt;
    }
    std::string why;
    auto substituted = substitute_env(v.node.Scalar(), env_, &why);
    if (!substituted) error(v.path, v.line, std::move(why));
    return substituted;
  }

  void read_string(const Value& v, std::string& out) {
    if (auto value = text(v, "a string")) out = std::move(*value);
  }

  // A file path; a relative one is joined to the base directory.
  void read_file_path(const Value& v, std::string& out) {
    auto value = text(v, "a file path");
    if (!value) return;
    out = std::move(*value);
    if (out.empty()) return;
    if (!base_dir_.empty() && fs::path(out).is_relative()) {
      out = (fs::path(base_dir_) / out).lexically_normal().string();
    }
    files_.push_back(FileReference{v.path, v.line, out});
  }

  enum class Zero { allowed, rejected };
  void read_duration(const Value& v, milliseconds& out, Zero zero) {
    auto value = text(v, "a duration like \"10s\"");
    if (!value) return;
    std::string why;
    const auto duration = parse_duration(*value, &why);
    if (!duration) {
      error(v.path, v.line, std::move(why));
    } else if (zero == Zero::rejected && duration->count() == 0) {
      error(v.path, v.line, "must be greater than 0, got " + in_quotes(*value));
    } else {
      out = *duration;
    }
  }

  // A byte size; must be positive.
  void read_size(const Value& v, std::size_t& out) {
    auto value = text(v, "a size like \"64KiB\"");
    if (!value) return;
    std::string why;
    const auto size = parse_size(*value, &why);
    if (!size) {
      error(v.path, v.line, std::move(why));
    } else if (*size == 0) {
      error(v.path, v.line, "must be greater than 0, got " + in_quotes(*value));
    } else {
      out = *size;
    }
  }

  // A positive whole number (connections, batch sizes, ...), or also 0 when allowed.
  void read_count(const Value& v, std::size_t& out, Zero zero = Zero::rejected) {
    const char* what = zero == Zero::allowed ? "a whole number" : "a positive integer";
    auto value = text(v, what);
    if (!value) return;
    if (!detail::all_digits(*value) ||
        (zero == Zero::rejected && value->find_first_not_of('0') == std::string::npos)) {
      error(v.path, v.line, std::string("must be ") + what + ", got " + in_quotes(*value));
      return;
    }
    if (value->size() > 15) {
      error(v.path, v.line, "is too large: " + in_quotes(*value));
      return;
    }
    out = static_cast<std::size_t>(std::stoull(*value));
  }

  // A share from 0 to 1 ("0.5").
  void read_fraction(const Value& v, double& out) {
    auto value = text(v, "a number from 0 to 1");
    if (!value) return;
    char* end = nullptr;
    const double parsed = value->empty() ? -1 : std::strtod(value->c_str(), &end);
    if (end != value->c_str() + value->size() || !(parsed >= 0 && parsed <= 1)) {
      error(v.path, v.line, "must be a number from 0 to 1, got " + in_quotes(*value));
      return;
    }
    out = parsed;
  }

  void read_bool(const Value& v, bool& out) {
    auto value = text(v, "true or false");
    if (!value) return;
    if (*value == "true") {
      out = true;
    } else if (*value == "false") {
      out = false;
    } else {
      error(v.path, v.line, "must be true or false, got " + in_quotes(*value));
    }
  }

  // One of a fixed set of words; returns the word.
  std::optional<std::string> read_one_of(const Value& v, const std::vector<std::string_view>& words) {
    const std::string expected = "one of " + join(words, "|");
    auto value = text(v, expected);
    if (!value) return std::nullopt;
    if (std::find(words.begin(), words.end(), *value) != words.end()) return value;
    std::string message = "must be " + expected + ", got " + in_quotes(*value);
    if (const auto suggestion = closest(*value, words)) {
      message += "; did you mean " + in_quotes(*suggestion) + "?";
    }
    error(v.path, v.line, std::move(message));
    return std::nullopt;
  }

  void read_listen(const Value& v, ListenAddress& out) {
    auto value = text(v, "host:port");
    if (!value) return;
    std::string why;
    if (auto address = parse_listen_address(*value, &why)) {
      out = *address;
    } else {
      error(v.path, v.line, std::move(why));
    }
  }

  // An https:// endpoint, stored without a trailing "/".
  void read_endpoint(const Value& v, std::string& out) {
    auto value = text(v, "an https:// URL");
    if (!value) return;
    std::string why;
    if (!parse_https_endpoint(*value, &why)) {
      error(v.path, v.line, std::move(why));
      return;
    }
    if (!value->empty() && value->back() == '/') value->pop_back();
    out = std::move(*value);
  }

 private:
  EnvLookup env_;
  std::string base_dir_;
  std::vector<ConfigError> errors_;
  std::vector<FileReference> files_;
  std::set<std::string> failed_;
  std::map<std::string, int> lines_;
};

using Zero = TreeReader::Zero;

void read_api_keys(TreeReader& r, const Value& v, std::vector<std::string>& out) {
  if (v.node.IsNull()) {
    r.error(v.path, v.line,
            "has no value; list the accepted keys, or write \"api_keys: []\" to run without "
            "authentication");
    return;
  }
  if (!v.node.IsSequence()) {
    r.error(v.path, v.line,
            "must be a list of keys, e.g. [\"${PUSHGW_API_KEY}\"], got " + describe(v.node));
    return;
  }
  out.clear();
  for (std::size_t i = 0; i < v.node.size(); ++i) {
    const YAML::Node item = v.node[i];
    const int item_line = line_of(item);
    const Value element{item, v.path + "[" + std::to_string(i) + "]",
                        item_line > 0 && !item.IsNull() ? item_line : v.line};
    auto key = r.text(element, "an API key");
    if (!key) continue;
    // An empty key would match a missing header; an unset variable must not disable auth.
    if (key->empty()) {
      r.error(element.path, element.line,
              "is empty (is the environment variable behind it empty?); write \"api_keys: []\" "
              "to run without authentication");
      continue;
    }
    const bool has_space_or_control = std::any_of(key->begin(), key->end(), [](char c) {
      const auto byte = static_cast<unsigned char>(c);
      return byte <= 0x20 || byte == 0x7f;
    });
    if (has_space_or_control) {
      r.error(element.path, element.line,
              "contains whitespace or control characters (a trailing newline from a secret "
              "file?); it could never match an HTTP header");
      continue;
    }
    out.push_back(std::move(*key));
  }
}

void read_redis_tls(TreeReader& r, const Value& v, RedisTlsConfig& tls) {
  r.read_map(v, {
      {"ca_file", [&](const Value& f) { r.read_file_path(f, tls.ca_file); }},
      {"cert_file", [&](const Value& f) { r.read_file_path(f, tls.cert_file); }},
      {"key_file", [&](const Value& f) { r.read_file_path(f, tls.key_file); }},
      {"server_name", [&](const Value& f) {
         auto name = r.text(f, "a host name");
         if (!name) return;
         if (name->empty() || detail::is_valid_host_name(*name)) {
           tls.server_name = std::move(*name);
         } else {
           r.error(f.path, f.line, "must be a host name as in the server's certificate, got " + in_quotes(*name));
         }
       }},
  });
  // A client certificate needs both halves.
  const bool has_cert = !tls.cert_file.empty();
  const bool has_key = !tls.key_file.empty();
  if (has_cert != has_key) {
    const std::string missing = has_cert ? "key_file" : "cert_file";
    const std::string present = has_cert ? "cert_file" : "key_file";
    r.error(v.path + "." + missing, r.line(v.path + "." + present, v.line),
            "is needed with " + v.path + "." + present + " (a client certificate and its key)");
  }
}

// A list of "host:port" (the port `default_port` when left out). False when an element is not one.
bool read_host_ports(TreeReader& r, const Value& v, std::uint16_t default_port, const char* what,
                     std::vector<HostPort>& out) {
  bool ok = true;
  out.clear();
  r.for_each_item(v, what, [&](const Value& element) {
    auto text = r.text(element, "host:port");
    if (!text) return;
    std::string why;
    if (auto node = parse_host_port(*text, default_port, &why)) {
      out.push_back(std::move(*node));
    } else {
      r.error(element.path, element.line, std::move(why));
      ok = false;
    }
  });
  return ok;
}

// False when a part of it could not be read (then what it means is not checked further).
bool read_redis_sentinel(TreeReader& r, const Value& v, RedisSentinelConfig& sentinel) {
  bool ok = true;
  ok = r.read_map(v, {
      {"master", [&](const Value& f) {
         auto name = r.text(f, "the master's name in the sentinels' configuration");
         if (!name) return;
         if (name->find_first_of(" \t\r\n") == std::string::npos) {  // "" = the default, no Sentinel
           sentinel.master = std::move(*name);
         } else {
           r.error(f.path, f.line, "must be the name of `sentinel monitor <name> ...` (no spaces), got " + in_quotes(*name));
         }
       }},
      {"nodes", [&](const Value& f) {
         ok = read_host_ports(r, f, 26379, "a list of sentinels like [\"10.0.0.7:26379\", \"10.0.0.8:26379\"]",
                              sentinel.nodes) && ok;
       }},
  }) && ok;
  return ok;
}

// False when a part of it could not be read.
bool read_redis_cluster(TreeReader& r, const Value& v, RedisClusterConfig& cluster) {
  bool ok = true;
  ok = r.read_map(v, {
      {"nodes", [&](const Value& f) {
         ok = read_host_ports(r, f, 6379, "a list of cluster nodes like [\"10.0.0.7:6379\", \"10.0.0.8:6379\"]",
                              cluster.nodes) && ok;
       }},
  }) && ok;
  return ok;
}

// Exactly one place says where Redis is: the URL's host, the sentinels, or the cluster seeds.
void check_redis_location(TreeReader& r, const Value& v, const RedisConfig& redis) {
  const std::string url_path = v.path + ".url";
  const std::string sentinel_path = v.path + ".sentinel";
  const std::string cluster_path = v.path + ".cluster";
  if (r.failed(url_path) || r.failed(sentinel_path + ".nodes") || r.failed(sentinel_path + ".master") ||
      r.failed(cluster_path + ".nodes")) {
    return;
  }
  const auto endpoint = parse_redis_url(redis.url, nullptr, HostRequired::no);
  if (!endpoint) return;
  const bool sentinel = !redis.sentinel.nodes.empty();
  const bool cluster = !redis.cluster.nodes.empty();
  if (cluster && (sentinel || !redis.sentinel.master.empty())) {
    r.error(cluster_path + ".nodes", r.line(cluster_path + ".nodes", v.line),
            "and redis.sentinel are both set; Redis Cluster fails over by itself: keep one of them");
  } else if (cluster && !endpoint->host.empty() && r.present(url_path)) {
    r.error(url_path, r.line(url_path, v.line),
            "names a host, and so do redis.cluster.nodes; leave the host out (e.g. redis://:password@ or "
            "rediss://user:password@) so that only the seeds say where the cluster is");
  } else if (cluster && endpoint->db != 0) {
    r.error(url_path, r.line(url_path, v.line),
            "selects database " + std::to_string(endpoint->db) + "; Redis Cluster has only database 0");
  } else if (cluster) {
    return;
  } else if (!sentinel && !redis.sentinel.master.empty()) {
    r.error(sentinel_path + ".nodes", r.line(sentinel_path + ".master", v.line),
            "is needed with redis.sentinel.master: the sentinels' host:port list");
  } else if (sentinel && redis.sentinel.master.empty()) {
    r.error(sentinel_path + ".master", r.line(sentinel_path + ".nodes", v.line),
            "is needed with redis.sentinel.nodes: the name the sentinels monitor the master by");
  } else if (sentinel && !endpoint->host.empty() && r.present(url_path)) {
    r.error(url_path, r.line(url_path, v.line),
            "names a host, and so do redis.sentinel.nodes; leave the host out (e.g. redis://:password@/0 or "
            "rediss://user:password@/0) so that only the sentinels say where the master is");
  } else if (!sentinel && endpoint->host.empty()) {
    r.error(url_path, r.line(url_path, v.line),
            "is not a valid Redis URL: has no host (only Sentinel mode, redis.sentinel.nodes, and Cluster mode, "
            "redis.cluster.nodes, leave it out)");
  }
}

void read_redis(TreeReader& r, const Value& v, RedisConfig& redis) {
  bool location_read = true;
  const bool ok = r.read_map(v, {
      {"url", [&](const Value& f) {
         auto url = r.text(f, "a redis:// URL");
         if (!url) return;
         std::string why;
         // Whether it needs a host depends on redis.sentinel, checked below.
         if (parse_redis_url(*url, &why, HostRequired::no)) {
           redis.url = std::move(*url);
         } else {
           r.error(f.path, f.line, "is not a valid Redis URL: " + why);
         }
       }},
      {"prefix", [&](const Value& f) {
         auto prefix = r.text(f, "a key prefix");
         if (!prefix) return;
         if (is_simple_name(*prefix, "_-.:")) {
           redis.prefix = std::move(*prefix);
         } else {
           r.error(f.path, f.line,
                   "must be letters, digits, \"_\", \"-\", \".\" or \":\" (no braces: the keys "
                   "carry their own {hash tag}), got " + in_quotes(*prefix));
         }
       }},
      {"connect_timeout", [&](const Value& f) { r.read_duration(f, redis.connect_timeout, Zero::rejected); }},
      {"command_timeout", [&](const Value& f) { r.read_duration(f, redis.command_timeout, Zero::rejected); }},
      {"reconnect_min", [&](const Value& f) { r.read_duration(f, redis.reconnect_min, Zero::rejected); }},
      {"reconnect_max", [&](const Value& f) { r.read_duration(f, redis.reconnect_max, Zero::rejected); }},
      {"tls", [&](const Value& f) { read_redis_tls(r, f, redis.tls); }},
      {"sentinel", [&](const Value& f) { location_read = read_redis_sentinel(r, f, redis.sentinel); }},
      {"cluster", [&](const Value& f) { location_read = read_redis_cluster(r, f, redis.cluster) && location_read; }},
  });
  if (location_read) check_redis_location(r, v, redis);
  // TLS settings without TLS would be silently ignored: a plain redis:// URL sends the
  // password in clear text although the file says the connection is encrypted.
  if (ok && r.present(v.path + ".tls") && !r.failed(v.path + ".url") && redis.tls != RedisTlsConfig{}) {
    std::string why;
    const auto endpoint = parse_redis_url(redis.url, &why, HostRequired::no);
    if (endpoint && !endpoint->tls) {
      r.error(v.path + ".tls", r.line(v.path + ".tls", v.line),
              "is set but redis.url is redis:// (plain TCP); use rediss:// for TLS");
    }
  }
  const std::string min_path = v.path + ".reconnect_min";
  const std::string max_path = v.path + ".reconnect_max";
  if (ok && !r.failed(min_path) && !r.failed(max_path) && redis.reconnect_max < redis.reconnect_min) {
    r.error(max_path, r.line(max_path, r.line(min_path, v.line)),
            "must not be less than redis.reconnect_min (" + std::to_string(redis.reconnect_min.count()) +
                "ms), got " + std::to_string(redis.reconnect_max.count()) + "ms");
  }
}

// Reports `key` against `other_key` unless `holds`: at `key`'s line when the file sets it, else
// at `other_key`'s (or the section's).
void require_size_order(TreeReader& r, const Value& section, bool holds, const std::string& key,
                        std::size_t value, std::string_view relation, const std::string& other_key,
                        std::size_t other) {
  const std::string path = section.path + "." + key;
  const std::string other_path = section.path + "." + other_key;
  if (holds || r.failed(path) || r.failed(other_path)) return;
  const std::string& at = r.present(path) ? path : other_path;
  r.error(at, r.line(at, section.line),
          path + " (" + std::to_string(value) + ") " + std::string(relation) + " " + other_path + " (" +
              std::to_string(other) + ")");
}

void read_limits(TreeReader& r, const Value& v, LimitsConfig& limits) {
  const bool ok = r.read_map(v, {
      {"max_body_bytes", [&](const Value& f) { r.read_size(f, limits.max_body_bytes); }},
      {"max_header_bytes", [&](const Value& f) { r.read_size(f, limits.max_header_bytes); }},
      {"max_notifications_per_request", [&](const Value& f) { r.read_count(f, limits.max_notifications_per_request); }},
      {"max_tokens_per_notification", [&](const Value& f) { r.read_count(f, limits.max_tokens_per_notification); }},
      {"job_split_size", [&](const Value& f) { r.read_count(f, limits.job_split_size); }},
      {"max_pending_body_bytes", [&](const Value& f) { r.read_size(f, limits.max_pending_body_bytes); }},
      {"max_connections", [&](const Value& f) { r.read_count(f, limits.max_connections); }},
      {"probe_connections", [&](const Value& f) { r.read_count(f, limits.probe_connections, Zero::allowed); }},
      {"header_timeout", [&](const Value& f) { r.read_duration(f, limits.header_timeout, Zero::rejected); }},
      {"min_receive_rate", [&](const Value& f) { r.read_size(f, limits.min_receive_rate); }},
      {"max_queue_depth", [&](const Value& f) { r.read_count(f, limits.max_queue_depth, Zero::allowed); }},
      {"read_timeout", [&](const Value& f) { r.read_duration(f, limits.read_timeout, Zero::rejected); }},
      {"idle_timeout", [&](const Value& f) { r.read_duration(f, limits.idle_timeout, Zero::rejected); }},
  });
  if (!ok) return;
  require_size_order(r, v, limits.job_split_size <= limits.max_tokens_per_notification, "job_split_size",
                     limits.job_split_size, "must not exceed", "max_tokens_per_notification",
                     limits.max_tokens_per_notification);
  // A budget below one largest body would refuse every such request.
  require_size_order(r, v, limits.max_pending_body_bytes >= limits.max_body_bytes, "max_pending_body_bytes",
                     limits.max_pending_body_bytes, "must not be less than", "max_body_bytes",
                     limits.max_body_bytes);
}

// Reports `later` (at its line, or the section's) when it is not greater than `earlier`.
void require_greater(TreeReader& r, const Value& section, const std::string& later_key,
                     milliseconds later, const std::string& earlier_key, milliseconds earlier) {
  const std::string later_path = section.path + "." + later_key;
  const std::string earlier_path = section.path + "." + earlier_key;
  if (r.failed(later_path) || r.failed(earlier_path) || later > earlier) return;
  const std::string& path = r.present(later_path) ? later_path : earlier_path;
  r.error(path, r.line(path, section.line),
          section.path + "." + later_key + " (" + std::to_string(later.count()) + "ms) must be greater than " +
              section.path + "." + earlier_key + " (" + std::to_string(earlier.count()) + "ms)");
}

void read_queue(TreeReader& r, const Value& v, QueueConfig& queue) {
  const bool ok = r.read_map(v, {
      {"consume", [&](const Value& f) { r.read_bool(f, queue.consume); }},
      {"workers", [&](const Value& f) { r.read_count(f, queue.workers); }},
      {"in_progress_bytes", [&](const Value& f) { r.read_size(f, queue.in_progress_bytes); }},
      {"send_threads", [&](const Value& f) {
         r.read_count(f, queue.send_threads, Zero::allowed);
         if (queue.send_threads > 64) r.error(f.path, f.line, "must be at most 64, got " + std::to_string(queue.send_threads));
       }},
      {"batch", [&](const Value& f) { r.read_count(f, queue.batch); }},
      {"lanes", [&](const Value& f) {
         r.read_map(f, {
             {"high", [&](const Value& w) { r.read_count(w, queue.weight_high); }},
             {"default", [&](const Value& w) { r.read_count(w, queue.weight_default); }},
             {"bulk", [&](const Value& w) { r.read_count(w, queue.weight_bulk); }},
         });
       }},
      {"block_timeout", [&](const Value& f) { r.read_duration(f, queue.block_timeout, Zero::rejected); }},
      {"poll_interval", [&](const Value& f) { r.read_duration(f, queue.poll_interval, Zero::rejected); }},
      {"heartbeat_interval", [&](const Value& f) { r.read_duration(f, queue.heartbeat_interval, Zero::rejected); }},
      {"heartbeat_ttl", [&](const Value& f) { r.read_duration(f, queue.heartbeat_ttl, Zero::rejected); }},
      {"reaper_interval", [&](const Value& f) { r.read_duration(f, queue.reaper_interval, Zero::rejected); }},
      {"max_redeliveries", [&](const Value& f) { r.read_count(f, queue.max_redeliveries); }},
      {"idempotency_ttl", [&](const Value& f) { r.read_duration(f, queue.idempotency_ttl, Zero::rejected); }},
      {"checkpoint_interval", [&](const Value& f) { r.read_duration(f, queue.checkpoint_interval, Zero::allowed); }},
  });
  // A heartbeat that expires before it is refreshed would get a live instance's jobs requeued.
  if (ok) require_greater(r, v, "heartbeat_ttl", queue.heartbeat_ttl, "heartbeat_interval", queue.heartbeat_interval);
}

void read_retries(TreeReader& r, const Value& v, RetriesConfig& retries) {
  const bool ok = r.read_map(v, {
      {"max_attempts", [&](const Value& f) { r.read_count(f, retries.max_attempts); }},
      {"backoff_min", [&](const Value& f) { r.read_duration(f, retries.backoff_min, Zero::rejected); }},
      {"backoff_max", [&](const Value& f) { r.read_duration(f, retries.backoff_max, Zero::rejected); }},
  });
  if (ok && !r.failed(v.path + ".backoff_min") && !r.failed(v.path + ".backoff_max") &&
      retries.backoff_max < retries.backoff_min) {
    const std::string path = v.path + ".backoff_max";
    r.error(path, r.line(path, v.line),
            "must not be less than retries.backoff_min (" + std::to_string(retries.backoff_min.count()) +
                "ms), got " + std::to_string(retries.backoff_max.count()) + "ms");
  }
}

void read_webhook(TreeReader& r, const Value& v, WebhookConfig& webhook) {
  r.read_map(v, {
      {"url", [&](const Value& f) {
         r.read_string(f, webhook.url);
         std::string why;
         if (!webhook.url.empty() && !common::parse_url(webhook.url, &why)) r.error(f.path, f.line, why);
       }},
      {"secret", [&](const Value& f) { r.read_string(f, webhook.secret); }},
      {"batch", [&](const Value& f) { r.read_count(f, webhook.batch); }},
      {"interval", [&](const Value& f) { r.read_duration(f, webhook.interval, Zero::rejected); }},
      {"timeout", [&](const Value& f) { r.read_duration(f, webhook.timeout, Zero::rejected); }},
  });
  if (!webhook.url.empty() && webhook.secret.empty()) {
    const std::string path = v.path + ".secret";
    r.error(path, r.line(path, v.line),
            "is required with feedback.webhook.url: every request is signed with it (HMAC-SHA256)");
  }
}

void read_feedback(TreeReader& r, const Value& v, FeedbackConfig& feedback) {
  r.read_map(v, {
      {"max_events", [&](const Value& f) { r.read_count(f, feedback.max_events); }},
      {"inactive_ttl", [&](const Value& f) { r.read_duration(f, feedback.inactive_ttl, Zero::rejected); }},
      {"webhook", [&](const Value& f) { read_webhook(r, f, feedback.webhook); }},
  });
}

// web.allowed_origins: origins exactly as browsers send them in the Origin header.
void read_origins(TreeReader& r, const Value& v, std::vector<std::string>& out) {
  out.clear();
  r.for_each_item(v, "a list of origins like [\"https://app.example.com\"] ([] = any origin)", [&](const Value& element) {
    auto origin = r.text(element, "an origin");
    if (!origin) return;
    const std::string_view o = *origin;
    const std::size_t scheme_end = o.find("://");
    const std::string_view scheme = o.substr(0, scheme_end == std::string_view::npos ? 0 : scheme_end);
    const std::string_view host = scheme_end == std::string_view::npos ? "" : o.substr(scheme_end + 3);
    const bool ok = (scheme == "http" || scheme == "https") && !host.empty() &&
                    host.find_first_of("/?#@ \t") == std::string_view::npos;
    if (!ok) {
      r.error(element.path, element.line,
              "must be an origin as browsers send it, scheme://host[:port] without a path, e.g. "
              "\"https://app.example.com\", got " + in_quotes(*origin));
      return;
    }
    out.push_back(std::move(*origin));
  });
}

void read_web(TreeReader& r, const Value& v, WebConfig& web) {
  r.read_map(v, {
      {"enabled", [&](const Value& f) { r.read_bool(f, web.enabled); }},
      {"secret", [&](const Value& f) { r.read_string(f, web.secret); }},
      {"allowed_origins", [&](const Value& f) { read_origins(r, f, web.allowed_origins); }},
      {"history", [&](const Value& f) { r.read_count(f, web.history); }},
      {"history_ttl", [&](const Value& f) { r.read_duration(f, web.history_ttl, Zero::rejected); }},
      {"ping_interval", [&](const Value& f) { r.read_duration(f, web.ping_interval, Zero::rejected); }},
      {"max_connections", [&](const Value& f) { r.read_count(f, web.max_connections); }},
      {"send_buffer", [&](const Value& f) { r.read_size(f, web.send_buffer); }},
      {"threads", [&](const Value& f) {
         r.read_count(f, web.threads, Zero::allowed);
         if (web.threads > 64) r.error(f.path, f.line, "must be at most 64, got " + std::to_string(web.threads));
       }},
  });
  if (web.enabled && web.secret.size() < 32) {
    const std::string path = v.path + ".secret";
    r.error(path, r.line(path, v.line),
            web.secret.empty() ? "is required with web.enabled: client tokens are verified with it (HS256)"
                               : "must be at least 32 bytes: it is the HS256 key client tokens are signed with, "
                                 "and a short one can be guessed");
  }
}

void read_logging(TreeReader& r, const Value& v, LogConfig& logging) {
  r.read_map(v, {
      {"level", [&](const Value& f) {
         if (auto level = r.read_one_of(f, {"trace", "debug", "info", "warn", "error", "critical", "off"})) {
           logging.level = std::move(*level);
         }
       }},
      {"format", [&](const Value& f) {
         if (auto format = r.read_one_of(f, {"text", "json"})) {
           logging.format = *format == "json" ? LogFormat::json : LogFormat::text;
         }
       }},
      {"redact_tokens", [&](const Value& f) { r.read_bool(f, logging.redact_tokens); }},
      {"access_log", [&](const Value& f) { r.read_bool(f, logging.access_log); }},
  });
}

// Apple's Key ID and Team ID are both 10 characters of A-Z and 0-9.
bool is_apple_id(std::string_view text) {
  return text.size() == 10 && std::all_of(text.begin(), text.end(), [](char c) {
           return detail::is_ascii_digit(c) || (c >= 'A' && c <= 'Z');
         });
}

void read_apns_auth(TreeReader& r, const Value& v, ApnsAuthConfig& auth) {
  const bool ok = r.read_map(v, {
      {"type", [&](const Value& f) {
         if (auto type = r.read_one_of(f, {"token", "certificate"})) {
           auth.type = *type == "token" ? ApnsAuthConfig::Type::token : ApnsAuthConfig::Type::certificate;
         }
       }},
      {"key_file", [&](const Value& f) { r.read_file_path(f, auth.key_file); }},
      {"key_id", [&](const Value& f) { r.read_string(f, auth.key_id); }},
      {"team_id", [&](const Value& f) { r.read_string(f, auth.team_id); }},
      {"cert_file", [&](const Value& f) { r.read_file_path(f, auth.cert_file); }},
      {"cert_password", [&](const Value& f) { r.read_string(f, auth.cert_password); }},
  });
  // With an unknown type, which fields are needed is unknown too.
  if (!ok || r.failed(v.path + ".type")) return;

  const bool token = auth.type == ApnsAuthConfig::Type::token;
  const std::string type_name = token ? "token" : "certificate";
  auto require = [&](std::string_view field, const std::string& value, std::string_view what) {
    const std::string path = join_path(v.path, field);
    if (value.empty() && !r.failed(path)) {
      r.error(path, r.line(path, v.line),
              "is required for " + type_name + " auth (" + std::string(what) + ")");
    }
  };
  auto reject = [&](std::string_view field, const std::string& value) {
    const std::string path = join_path(v.path, field);
    if (!value.empty()) {
      const std::string other = token ? "certificate" : "token";
      r.error(path, r.line(path, v.line),
              "is only used with auth type " + other + "; remove it or set type: " + other);
    }
  };
  auto check_apple_id = [&](std::string_view field, const std::string& value) {
    const std::string path = join_path(v.path, field);
    if (!value.empty() && !is_apple_id(value)) {
      r.error(path, r.line(path, v.line),
              "must be 10 characters of A-Z and 0-9 (as shown in the Apple developer account), "
              "got " + in_quotes(value));
    }
  };
  if (token) {
    require("key_file", auth.key_file, "the .p8 signing key from the Apple developer account");
    require("key_id", auth.key_id, "the 10-character Key ID of that key");
    require("team_id", auth.team_id, "the 10-character Team ID");
    check_apple_id("key_id", auth.key_id);
    check_apple_id("team_id", auth.team_id);
    reject("cert_file", auth.cert_file);
    reject("cert_password", auth.cert_password);
  } else {
    require("cert_file", auth.cert_file, "a PEM certificate, or a PKCS#12 bundle");
    reject("key_id", auth.key_id);
    reject("team_id", auth.team_id);
  }
}

void read_breaker(TreeReader& r, const Value& v, BreakerConfig& breaker) {
  r.read_map(v, {
      {"error_ratio", [&](const Value& f) { r.read_fraction(f, breaker.error_ratio); }},
      {"min_requests", [&](const Value& f) { r.read_count(f, breaker.min_requests); }},
      {"open_for", [&](const Value& f) { r.read_duration(f, breaker.open_for, Zero::rejected); }},
      {"window", [&](const Value& f) { r.read_duration(f, breaker.window, Zero::rejected); }},
  });
}

void read_apns(TreeReader& r, const Value& v, ApnsConfig& apns) {
  bool has_auth = false;
  const bool ok = r.read_map(v, {
      {"endpoint", [&](const Value& f) { r.read_endpoint(f, apns.endpoint); }},
      {"ca_file", [&](const Value& f) { r.read_file_path(f, apns.ca_file); }},
      {"topic", [&](const Value& f) { r.read_string(f, apns.topic); }},
      {"channels_endpoint", [&](const Value& f) { r.read_string(f, apns.channels_endpoint); }},
      {"auth", [&](const Value& f) {
         has_auth = true;
         read_apns_auth(r, f, apns.auth);
       }},
      {"connections", [&](const Value& f) { r.read_count(f, apns.connections); }},
      {"max_inflight", [&](const Value& f) { r.read_count(f, apns.max_inflight); }},
      {"request_timeout", [&](const Value& f) { r.read_duration(f, apns.request_timeout, Zero::rejected); }},
      {"ping_interval", [&](const Value& f) { r.read_duration(f, apns.ping_interval, Zero::allowed); }},
      {"rate_limit", [&](const Value& f) { r.read_count(f, apns.rate_limit, Zero::allowed); }},
      {"breaker", [&](const Value& f) { read_breaker(r, f, apns.breaker); }},
  });
  if (ok && !has_auth) {
    r.error(join_path(v.path, "auth"), v.line,
            "is required: {type: token, key_file: ..., key_id: ..., team_id: ...} or "
            "{type: certificate, cert_file: ...}");
  }
}

void read_fcm(TreeReader& r, const Value& v, FcmConfig& fcm) {
  const bool ok = r.read_map(v, {
      {"endpoint", [&](const Value& f) { r.read_endpoint(f, fcm.endpoint); }},
      {"ca_file", [&](const Value& f) { r.read_file_path(f, fcm.ca_file); }},
      {"service_account_file", [&](const Value& f) { r.read_file_path(f, fcm.service_account_file); }},
      {"connections", [&](const Value& f) { r.read_count(f, fcm.connections); }},
      {"max_inflight", [&](const Value& f) { r.read_count(f, fcm.max_inflight); }},
      {"request_timeout", [&](const Value& f) { r.read_duration(f, fcm.request_timeout, Zero::rejected); }},
      {"ping_interval", [&](const Value& f) { r.read_duration(f, fcm.ping_interval, Zero::allowed); }},
      {"rate_limit", [&](const Value& f) { r.read_count(f, fcm.rate_limit, Zero::allowed); }},
      {"breaker", [&](const Value& f) { read_breaker(r, f, fcm.breaker); }},
  });
  const std::string path = join_path(v.path, "service_account_file");
  if (ok && fcm.service_account_file.empty() && !r.failed(path)) {
    r.error(path, r.line(path, v.line),
            "is required (the service account JSON key from the Firebase console)");
  }
}

void read_app(TreeReader& r, const Value& v, AppConfig& app) {
  const bool ok = r.read_map(v, {
      {"apns", [&](const Value& f) { read_apns(r, f, app.apns.emplace()); }},
      {"fcm", [&](const Value& f) { read_fcm(r, f, app.fcm.emplace()); }},
      {"max_workers", [&](const Value& f) { r.read_count(f, app.max_workers, Zero::allowed); }},
  });
  if (ok && !app.apns && !app.fcm) {
    r.error(v.path, v.line, "has neither apns nor fcm; configure at least one provider");
  }
}

// Returns the number of app entries in the file, valid or not.
std::size_t read_apps(TreeReader& r, const Value& v, std::map<std::string, AppConfig>& apps) {
  std::size_t entries = 0;
  r.for_each_entry(v, [&](const std::string& name, const Value& app_value) {
    ++entries;
    // The name is part of Redis keys and metric labels.
    if (name.size() > 64 || !is_simple_name(name, "_-")) {
      r.error(app_value.path, app_value.line,
              "app name " + in_quotes(name) + " must be 1-64 letters, digits, \"_\" or \"-\"");
      return;
    }
    AppConfig app;
    app.name = name;
    read_app(r, app_value, app);
    apps[name] = std::move(app);
  });
  return entries;
}

void read_root(TreeReader& r, const Value& root, Config& config) {
  std::size_t app_entries = 0;
  const bool ok = r.read_map(root, {
      {"listen", [&](const Value& f) { r.read_listen(f, config.listen); }},
      {"api_keys", [&](const Value& f) { read_api_keys(r, f, config.api_keys); }},
      {"redis", [&](const Value& f) { read_redis(r, f, config.redis); }},
      {"limits", [&](const Value& f) { read_limits(r, f, config.limits); }},
      {"logging", [&](const Value& f) { read_logging(r, f, config.logging); }},
      {"queue", [&](const Value& f) { read_queue(r, f, config.queue); }},
      {"retries", [&](const Value& f) { read_retries(r, f, config.retries); }},
      {"feedback", [&](const Value& f) { read_feedback(r, f, config.feedback); }},
      {"web", [&](const Value& f) { read_web(r, f, config.web); }},
      {"apps", [&](const Value& f) { app_entries = read_apps(r, f, config.apps); }},
      {"instance_id", [&](const Value& f) {
         auto id = r.text(f, "an instance name");
         if (!id) return;
         if (id->empty() || (id->size() <= 100 && is_simple_name(*id, "_-.:"))) {
           config.instance_id = std::move(*id);
         } else {
           r.error(f.path, f.line,
                   "must be up to 100 letters, digits, \"_\", \"-\", \".\" or \":\" (it is part "
                   "of Redis keys), got " + in_quotes(*id));
         }
       }},
      {"shutdown_timeout", [&](const Value& f) { r.read_duration(f, config.shutdown_timeout, Zero::rejected); }},
  });
  if (ok && app_entries == 0 && !r.failed("apps")) {
    r.error("apps", r.line("apps", 0),
            "at least one app is required, e.g. apps: {demo: {apns: {...}, fcm: {...}}}");
  }
}

// Notes where each document starts; ignores everything else.
class DocumentStarts : public YAML::EventHandler {
 public:
  std::optional<YAML::Mark> start;
  void OnDocumentStart(const YAML::Mark& mark) override { start = mark; }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
};

struct Documents {
  YAML::Node first;         // null when there is no document
  std::size_t count = 0;
  YAML::Mark second_start;  // where a second document begins, when count > 1
};

// The first document and how many there are. Not YAML::LoadAll: in yaml-cpp 0.7 a stray ","
// outside [...] or {...} makes the parser start the same empty document again and again, so
// LoadAll loops forever allocating memory, and YAML::Load silently drops the rest of the file
// (jbeder/yaml-cpp#1040, fixed upstream in #1319). A document that starts where the previous
// one started is that case, and is reported as a syntax error. Throws YAML::ParserException.
Documents load_documents(const std::string& text) {
  Documents documents;
  std::istringstream stream(text);
  YAML::Parser parser(stream);
  DocumentStarts events;
  std::optional<int> previous_position;
  while (true) {
    events.start.reset();
    if (!parser.HandleNextDocument(events)) break;
    const YAML::Mark start = events.start.value_or(YAML::Mark::null_mark());
    if (previous_position == start.pos) {
      const auto position = static_cast<std::size_t>(std::max(start.pos, 0));
      throw YAML::ParserException(
          start, "unexpected " + in_quotes(text.substr(position, 1)) + " here");
    }
    previous_position = start.pos;
    if (++documents.count == 2) documents.second_start = start;
  }
  if (documents.count > 0) documents.first = YAML::Load(text);
  return documents;
}

// The parsed config before the errors are final (load_config still checks the files).
struct Parsed {
  Config config;
  std::vector<ConfigError> errors;
  std::vector<FileReference> files;
};

Parsed parse(const std::string& yaml_text, EnvLookup env, const std::string& base_dir) {
  Parsed parsed;
  Documents documents;
  try {
    documents = load_documents(yaml_text);
  } catch (const YAML::Exception& e) {
    const int line = e.mark.is_null() ? 0 : e.mark.line + 1;
    std::string message = "YAML syntax error: " + e.msg;
    if (!e.mark.is_null()) message += " (column " + std::to_string(e.mark.column + 1) + ")";
    parsed.errors.push_back(ConfigError{"", line, std::move(message)});
    return parsed;
  }

  TreeReader reader(env, base_dir);
  if (documents.count > 1) {
    const YAML::Mark& second = documents.second_start;
    reader.error("", second.is_null() ? 0 : second.line + 1,
                 "the file holds " + std::to_string(documents.count) +
                     " YAML documents; a config is one document (remove the \"---\" separators)");
  }
  const YAML::Node& root = documents.first;
  if (!root.IsNull() && !root.IsMap()) {
    reader.error("", line_of(root),
                 "the config must be a mapping of keys (listen, redis, apps, ...), got " + describe(root));
  } else {
    try {
      read_root(reader, Value{root, "", line_of(root)}, parsed.config);
    } catch (const YAML::Exception& e) {
      // yaml-cpp only throws here on misuse of its API; report rather than crash.
      reader.error("", line_of(root), std::string("cannot read the YAML tree: ") + e.what());
    }
  }
  parsed.errors = reader.take_errors();
  parsed.files = reader.take_files();
  return parsed;
}

// Errors in file order; those without a line last.
LoadResult finish(Parsed parsed) {
  std::stable_sort(parsed.errors.begin(), parsed.errors.end(),
                   [](const ConfigError& a, const ConfigError& b) {
                     const auto key = [](int line) { return line > 0 ? line : std::numeric_limits<int>::max(); };
                     return key(a.line) < key(b.line);
                   });
  LoadResult result;
  result.errors = std::move(parsed.errors);
  if (result.errors.empty()) result.config = std::move(parsed.config);
  return result;
}

std::string errno_text(int error_number) {
  return std::error_code(error_number, std::generic_category()).message();
}

// The whole file, or nullopt with *why set.
std::optional<std::string> read_file(const std::string& path, std::string* why) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    *why = "is a directory, not a file";
    return std::nullopt;
  }
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (!file) {
    *why = errno_text(errno);
    return std::nullopt;
  }
  std::string content;
  char buffer[8192];
  std::size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof buffer, file)) > 0) content.append(buffer, n);
  const bool failed = std::ferror(file) != 0;
  const int read_errno = errno;
  std::fclose(file);
  if (failed) {
    *why = errno_text(read_errno);
    return std::nullopt;
  }
  return content;
}

// Empty when the file exists and can be opened for reading; else what is wrong.
std::string check_readable(const std::string& path) {
  const std::string shown = in_quotes(path, 4096);
  std::error_code ec;
  const fs::file_status status = fs::status(path, ec);
  if (!fs::exists(status)) {
    return "file " + shown + " does not exist" +
           (ec && ec != std::errc::no_such_file_or_directory ? " (" + ec.message() + ")" : "");
  }
  if (fs::is_directory(status)) return shown + " is a directory, not a file";
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (!file) return "file " + shown + " cannot be read: " + errno_text(errno);
  std::fclose(file);
  return {};
}

}  // namespace

std::optional<std::string> process_env(const std::string& name) {
  const char* value = std::getenv(name.c_str());
  if (!value) return std::nullopt;
  return std::string(value);
}

LoadResult parse_config(const std::string& yaml_text, EnvLookup env, const std::string& base_dir) {
  return finish(parse(yaml_text, env, base_dir));
}

LoadResult load_config(const std::string& file_path, EnvLookup env) {
  std::string why;
  const auto text = read_file(file_path, &why);
  if (!text) {
    LoadResult result;
    result.errors.push_back(ConfigError{"", 0, "cannot read the config file: " + why});
    return result;
  }
  std::error_code ec;
  fs::path absolute = fs::absolute(file_path, ec);
  if (ec) absolute = file_path;
  const std::string base_dir = absolute.lexically_normal().parent_path().string();

  Parsed parsed = parse(*text, env, base_dir);
  for (const FileReference& reference : parsed.files) {
    std::string problem = check_readable(reference.file);
    if (!problem.empty()) {
      parsed.errors.push_back(ConfigError{reference.path, reference.line, std::move(problem)});
    }
  }
  return finish(std::move(parsed));
}

std::string format_error(const std::string& file, const ConfigError& error) {
  std::string out = file;
  if (error.line > 0) out += ":" + std::to_string(error.line);
  out += ": ";
  if (!error.path.empty()) out += error.path + ": ";
  out += error.message;
  return out;
}

}  // namespace pushgw::config
