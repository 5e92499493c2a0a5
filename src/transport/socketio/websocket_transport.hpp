// The WebSocket transport of Engine.IO: a connection taken over from the HTTP server runs here,
// on the thread that accepted it, either as a new session (no sid: the open packet is the first
// frame) or as the upgrade of a polling session (2probe/3probe, then 5).
#pragma once

#include "net/http_types.hpp"
#include "transport/socketio/engineio_session.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>

#include <functional>
#include <memory>

namespace plume::transport::socketio {

// A WebSocketLink on the executor of the thread that runs the socket.
std::shared_ptr<WebSocketLink> make_websocket_link(boost::asio::any_io_executor executor);

// Creates, registers and opens a session on the current thread for a direct WebSocket.
using OpenWebSocketSession = std::function<std::shared_ptr<EngineSession>(std::shared_ptr<WebSocketLink>)>;

// Serves one WebSocket connection until it closes. `upgrading` is the polling session this
// socket probes to take over (begin_probe already accepted `link`), or null for a direct
// connection, which `open` creates.
Task<void> serve_websocket(boost::asio::ip::tcp::socket& socket, boost::beast::flat_buffer& buffer,
                           net::Request& request, const EngineOptions& options,
                           std::shared_ptr<WebSocketLink> link, std::shared_ptr<EngineSession> upgrading,
                           OpenWebSocketSession open);

}  // namespace plume::transport::socketio
