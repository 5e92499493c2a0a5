// SocketIoEndpoint serves /socket.io/: Engine.IO's request checks and error replies, the polling
// transport (handshake GET, long-poll GET, POST) and the WebSocket upgrade, with a FeathersSocket
// on top of every session.
#pragma once

#include "net/http_types.hpp"
#include "transport/socketio/engineio_session.hpp"
#include "transport/socketio/session_registry.hpp"

#include <plume/core/app.hpp>
#include <plume/transport/server.hpp>

#include <atomic>
#include <cstdint>
#include <string_view>

namespace plume::transport::socketio {

inline constexpr std::string_view kSocketIoPath = "/socket.io/";

class SocketIoEndpoint {
 public:
  SocketIoEndpoint(App& app, SocketIoOptions options);

  // A request for kSocketIoPath; `query` is the text after '?'.
  Task<net::Response> handle(net::Request& request, const net::ConnectionInfo& connection,
                             std::string_view query);

  // Closes every session (server stop): parked polls return the close packet, WebSockets close.
  void close_all();
  std::size_t session_count() const { return registry_.size(); }

 private:
  App& app_;
  SocketIoOptions options_;
  EngineOptions engine_;
  SessionRegistry registry_;
  std::shared_ptr<SessionAdmission> admission_;
  std::atomic<std::uint64_t> refused_{0};  // handshakes refused by the caps
};

}  // namespace plume::transport::socketio
