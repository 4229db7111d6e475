// redis[s]://[[user]:password@]host[:port][/db], rediss:// being TLS. Error messages never repeat the URL or the
// password: the URL usually comes from a secret.

#include <string_view>

#include "pushgw/common/url.hpp"
#include "pushgw/config/config.hpp"
#include "text.hpp"

namespace pushgw::config {

using common::percent_decode;
using detail::in_quotes;

namespace {

std::nullopt_t fail(std::string* error, std::string message) {
  if (error) *error = std::move(message);
  return std::nullopt;
}

bool starts_with_ignoring_case(std::string_view text, std::string_view lower_prefix) {
  if (text.size() < lower_prefix.size()) return false;
  for (std::size_t i = 0; i < lower_prefix.size(); ++i) {
    char c = text[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != lower_prefix[i]) return false;
  }
  return true;
}

}  // namespace

std::optional<RedisEndpoint> parse_redis_url(const std::string& url, std::string* error, HostRequired host_required) {
  const std::string example =
      "e.g. redis://127.0.0.1:6379/0, redis://:password@host:6379/0 or rediss://user:password@host:6379/0 (TLS)";
  if (url.empty()) return fail(error, "is empty; " + example);
  RedisEndpoint out;
  out.tls = starts_with_ignoring_case(url, "rediss://");
  if (!out.tls && !starts_with_ignoring_case(url, "redis://")) {
    const auto scheme_end = url.find("://");
    if (scheme_end != std::string::npos && scheme_end < 16) {
      return fail(error, "has unsupported scheme " + in_quotes(url.substr(0, scheme_end)) +
                             "; expected redis:// or rediss://, " + example);
    }
    return fail(error, "must start with redis:// or rediss://, " + example);
  }

  std::string_view rest = std::string_view(url).substr(out.tls ? 9 : 8);

  // The last '@' ends the credentials, so an unescaped '@' or '/' in a password still works.
  const auto at = rest.rfind('@');
  if (at != std::string_view::npos) {
    const std::string_view credentials = rest.substr(0, at);
    rest.remove_prefix(at + 1);
    const auto colon = credentials.find(':');
    if (colon == std::string_view::npos) {
      return fail(error, "credentials must be written \"user:password@\" or \":password@\" "
                         "(the \":\" is missing)");
    }
    auto user = percent_decode(credentials.substr(0, colon));
    if (!user) return fail(error, "has an invalid %-escape in the user name (use %XX hex)");
    auto password = percent_decode(credentials.substr(colon + 1));
    if (!password) return fail(error, "has an invalid %-escape in the password (use %XX hex)");
    out.username = std::move(*user);
    out.password = std::move(*password);
  }

  if (rest.find_first_of("?#") != std::string_view::npos) {
    return fail(error, "must not have query parameters or a fragment; " + example);
  }
  const auto slash = rest.find('/');
  const std::string_view authority = rest.substr(0, slash);
  const std::string_view db_text =
      slash == std::string_view::npos ? std::string_view{} : rest.substr(slash + 1);

  std::string_view port_text;
  if (!authority.empty() && authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return fail(error, "has an unclosed \"[\" around the host");
    out.host = authority.substr(1, close - 1);
    if (!detail::is_valid_ipv6_literal(out.host)) {
      return fail(error, "has an invalid IPv6 host " + in_quotes(out.host));
    }
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty() && after.front() != ':') {
      return fail(error, "expected \":port\" after the IPv6 host, got " + in_quotes(after));
    }
    if (!after.empty()) port_text = after.substr(1);
    if (!after.empty() && port_text.empty()) return fail(error, "has an empty port after \":\"");
  } else {
    const auto colon = authority.find(':');
    if (colon != std::string_view::npos &&
        authority.find(':', colon + 1) != std::string_view::npos) {
      return fail(error, "an IPv6 host needs brackets, e.g. redis://[::1]:6379/0");
    }
    out.host = authority.substr(0, colon);
    if (colon != std::string_view::npos) {
      port_text = authority.substr(colon + 1);
      if (port_text.empty()) return fail(error, "has an empty port after \":\"");
    }
    if (out.host.empty() && host_required == HostRequired::yes) return fail(error, "has no host; " + example);
    if (!out.host.empty() && !detail::is_valid_host_name(out.host)) {
      return fail(error, "has an invalid host " + in_quotes(out.host));
    }
  }
  if (!port_text.empty()) {
    const auto port = detail::parse_port(port_text, error);
    if (!port) return std::nullopt;
    out.port = *port;
  }

  if (!db_text.empty()) {
    if (!detail::all_digits(db_text) || db_text.size() > 2) {
      return fail(error, "db must be a number 0-15, got " + in_quotes(db_text));
    }
    const int db = std::stoi(std::string(db_text));
    if (db > 15) return fail(error, "db must be a number 0-15, got " + in_quotes(db_text));
    out.db = db;
  }
  return out;
}

}  // namespace pushgw::config
