#include "pushgw/apns/channels.hpp"

#include <boost/asio/use_awaitable.hpp>
#include <nlohmann/json.hpp>

#include "pushgw/apns/request.hpp"
#include "pushgw/apns/token_cache.hpp"
#include "pushgw/h2/endpoint.hpp"
#include "pushgw/h2/tls.hpp"

#include "pushgw/common/coroutine_warnings.hpp"  // last: GCC 12 false positive

namespace pushgw::apns {

using nlohmann::json;

std::string channels_endpoint(const config::ApnsConfig& config) {
  if (!config.channels_endpoint.empty()) return config.channels_endpoint;
  const auto endpoint = h2::parse_https_endpoint(config.endpoint, nullptr);
  if (endpoint && endpoint->host == "api.push.apple.com") return "https://api-manage-broadcast.push.apple.com:2196";
  if (endpoint && endpoint->host == "api.sandbox.push.apple.com") {
    return "https://api-manage-broadcast.sandbox.push.apple.com:2195";
  }
  return config.endpoint;
}

h2::Request channel_request(ChannelAction action, std::string_view bundle_id, const ChannelOptions& options) {
  h2::Request request;
  const std::string app = "/1/apps/" + std::string(bundle_id);
  request.path = app + (action == ChannelAction::list ? "/all-channels" : "/channels");
  request.method = action == ChannelAction::create ? "POST" : action == ChannelAction::remove ? "DELETE" : "GET";
  request.headers.push_back({"apns-request-id", new_apns_id(), true});
  if (action == ChannelAction::read || action == ChannelAction::remove) {
    request.headers.push_back({"apns-channel-id", options.channel_id, false});
  }
  if (action == ChannelAction::create) {
    request.headers.push_back({"content-type", "application/json", false});
    request.body = json{{"message-storage-policy", options.storage_policy}, {"push-type", "LiveActivity"}}.dump();
  }
  return request;
}

ChannelResult parse_channel_response(ChannelAction action, const h2::Response& response) {
  ChannelResult result;
  result.status = response.status;
  if (const auto* id = response.find_header("apns-request-id")) result.request_id = *id;
  const int expected = action == ChannelAction::create ? 201 : action == ChannelAction::remove ? 204 : 200;
  const json body = response.body.empty() ? json::object() : json::parse(response.body, nullptr, false);
  if (response.status != expected) {
    result.reason = body.is_object() && body.contains("reason") && body["reason"].is_string()
                        ? body["reason"].get<std::string>()
                        : "HTTP " + std::to_string(response.status);
    return result;
  }
  const auto malformed = [&](const char* what) {
    result.reason = std::string("unexpected answer: ") + what;
    return result;
  };
  switch (action) {
    case ChannelAction::create: {
      const auto* id = response.find_header("apns-channel-id");
      if (!id || id->empty()) return malformed("no apns-channel-id");
      result.channel_id = *id;
      break;
    }
    case ChannelAction::list: {
      const auto it = body.is_object() ? body.find("channels") : body.end();
      if (!body.is_object() || it == body.end() || !it->is_array()) return malformed("no channels list");
      for (const auto& id : *it) {
        if (id.is_string()) result.channels.push_back(id.get<std::string>());
      }
      break;
    }
    case ChannelAction::read: {
      const auto it = body.is_object() ? body.find("message-storage-policy") : body.end();
      if (!body.is_object() || it == body.end() || !it->is_number_integer()) {
        return malformed("no message-storage-policy");
      }
      result.storage_policy = it->get<int>();
      break;
    }
    case ChannelAction::remove:
      break;
  }
  result.ok = true;
  return result;
}

ChannelClient::ChannelClient(boost::asio::any_io_executor executor, config::ApnsConfig config, Credentials credentials)
    : executor_(std::move(executor)), config_(std::move(config)), credentials_(std::move(credentials)) {}

boost::asio::awaitable<ChannelResult> ChannelClient::run(ChannelAction action, ChannelOptions options) {
  ChannelResult failure;
  const std::string endpoint_text = channels_endpoint(config_);
  std::string error;
  const auto endpoint = h2::parse_https_endpoint(endpoint_text, &error);
  if (!endpoint) {
    failure.reason = "channels endpoint \"" + endpoint_text + "\": " + error;
    co_return failure;
  }
  h2::ConnectionConfig connection_config;
  connection_config.host = endpoint->host;
  connection_config.port = endpoint->port;
  connection_config.ca_file = config_.ca_file;
  connection_config.request_timeout = config_.request_timeout;
  connection_config.ping_interval = std::chrono::milliseconds(0);
  if (credentials_.certificate) {
    connection_config.install_client_certificate = [certificate = *credentials_.certificate](SSL_CTX* context) {
      certificate.use_in(context);
    };
  }
  auto tls = h2::make_tls_context(connection_config, &error);
  if (!tls) {
    failure.reason = error;
    co_return failure;
  }

  h2::Request request = channel_request(action, config_.topic, options);
  if (credentials_.signing_key) {
    TokenCache tokens(*credentials_.signing_key, credentials_.key_id, credentials_.team_id);
    request.headers.push_back({"authorization", "bearer " + tokens.token(), false});
  }
  h2::Connection connection(executor_, connection_config, tls);
  const auto ec = co_await connection.connect();
  if (ec) {
    failure.reason = "cannot connect to " + endpoint_text + ": " + ec.message();
    if (const auto detail = connection.last_error_detail(); !detail.empty()) failure.reason += " (" + detail + ")";
    connection.close();
    co_return failure;
  }
  const h2::Result result = co_await connection.async_request(request, boost::asio::use_awaitable);
  connection.close();
  if (result.ec) {
    failure.reason = "no answer from " + endpoint_text + ": " + result.ec.message();
    co_return failure;
  }
  co_return parse_channel_response(action, result.response);
}

}  // namespace pushgw::apns
