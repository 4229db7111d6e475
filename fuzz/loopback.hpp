#pragma once
// What the harnesses that drive real sockets share: each input gets its own io_context, run
// until every coroutine of the exchange has finished, so no state crosses from one input to
// the next and a hang shows as a libFuzzer timeout. Exceptions out of a coroutine abort.

#include <exception>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/socket_base.hpp>

namespace pushgw::fuzz {

inline void fail_on_exception(std::exception_ptr e) {
  if (e) std::terminate();
}

// Closes with a reset (SO_LINGER 0): a run of hundreds of thousands of loopback connections
// must not fill the port range with TIME_WAIT sockets.
inline void close_abortively(boost::asio::ip::tcp::socket& socket) {
  boost::system::error_code ignored;
  socket.set_option(boost::asio::socket_base::linger(true, 0), ignored);
  socket.close(ignored);
}

}  // namespace pushgw::fuzz
