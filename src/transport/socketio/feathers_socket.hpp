// FeathersSocket is the Socket.IO v5 layer of one Engine.IO session with Feathers' socket
// protocol on top: CONNECT to "/" (other namespaces are refused), service calls as EVENTs
// acknowledged with [null, result] or [error], and the App's connection lifecycle.
#pragma once

#include "transport/socketio/engineio_session.hpp"
#include "transport/socketio/session_registry.hpp"
#include "transport/socketio/socketio_packet.hpp"

#include <plume/core/app.hpp>
#include <plume/transport/server.hpp>

#include <boost/asio/steady_timer.hpp>

#include <cstddef>
#include <memory>
#include <set>
#include <string>

namespace plume::transport::socketio {

class SocketConnection;

class FeathersSocket final : public EngineSessionHandler,
                             public std::enable_shared_from_this<FeathersSocket> {
 public:
  // At most this many calls of one client run at once; the session reads no further message
  // from that client until one finishes, so a flood cannot crowd out other clients.
  static constexpr std::size_t kMaxConcurrentCalls = 16;
  // socket.io connectTimeout: a client must CONNECT within this.
  static constexpr std::chrono::milliseconds kConnectTimeout{45'000};

  // `address` is the client's IP; `ticket` counts the session against the server's caps.
  FeathersSocket(App& app, const SocketIoOptions& options, const std::shared_ptr<EngineSession>& session,
                 std::string address, std::shared_ptr<SessionAdmission::Ticket> ticket);

  // Starts the connect timeout; on the session's executor.
  void start();
  Task<void> on_message(std::string_view message) override;
  void on_close(std::string_view reason) override;

 private:
  Task<void> connect();
  void disconnect();
  Task<void> call(const SocketPacket& packet);
  Task<void> run_call(std::string method, Json path, JsonArray args, std::optional<std::uint64_t> ack_id,
                      std::shared_ptr<SocketConnection> connection);
  Task<void> connect_deadline();
  void send(const SocketPacket& packet);
  void refuse(std::string_view reason);
  bool some_service_exposes(std::string_view method) const;

  App& app_;
  const SocketIoOptions& options_;
  std::weak_ptr<EngineSession> session_;
  std::string sid_;  // the Engine.IO sid, for logs
  std::string address_;
  std::shared_ptr<SessionAdmission::Ticket> ticket_;  // released when the session closes
  std::shared_ptr<SocketConnection> connection_;      // while connected to "/"
  bool ever_connected_ = false;
  bool closed_ = false;
  std::size_t running_ = 0;
  boost::asio::steady_timer call_slot_;  // wakes the reader when a call finishes
  boost::asio::steady_timer connect_timer_;
};

}  // namespace plume::transport::socketio
