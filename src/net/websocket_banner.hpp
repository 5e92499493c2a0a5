// The Server field of the WebSocket handshakes the node answers. Beast puts its own
// "Boost.Beast/<version>" there unless a decorator sets one; a version only helps someone match
// the server against known flaws, so the handshake names the server without one (plain HTTP
// replies carry no Server field at all).
#pragma once

#include <boost/beast/http/field.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/beast/websocket/stream_base.hpp>

namespace plume::net {

inline constexpr std::string_view kWebSocketServerName = "plume";

// For stream.set_option(...) before async_accept.
inline boost::beast::websocket::stream_base::decorator without_version_banner() {
  return boost::beast::websocket::stream_base::decorator(
      [](boost::beast::websocket::response_type& response) {
        response.set(boost::beast::http::field::server, kWebSocketServerName);
      });
}

}  // namespace plume::net
