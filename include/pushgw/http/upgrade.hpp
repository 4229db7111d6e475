#pragma once
// A connection taken over from the HTTP server by a route's UpgradeHandler (server.hpp).

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

namespace pushgw::http {

struct Upgrade {
  boost::beast::tcp_stream stream;
  boost::beast::flat_buffer buffer;  // bytes read past the request (a WebSocket client may send early)
  boost::beast::http::request<boost::beast::http::string_body> message;
};

}  // namespace pushgw::http
