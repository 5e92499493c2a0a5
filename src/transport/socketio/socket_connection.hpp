// SocketConnection is a Socket.IO client as the App sees it (plume::Connection): service events
// and a server-side disconnect travel to the client through its Engine.IO session, on the
// session's own executor, from whatever thread publishes them.
#pragma once

#include "transport/socketio/engineio_session.hpp"

#include <plume/core/connection.hpp>

#include <memory>

namespace plume::transport::socketio {

class SocketConnection final : public Connection {
 public:
  SocketConnection(std::string id, JsonObject headers, std::weak_ptr<EngineSession> session)
      : Connection(std::move(id), "socketio", std::move(headers)), session_(std::move(session)) {}

  // 42["<path> <event>",<data>]
  void send_event(std::string_view path, std::string_view event, const Json& data) override;
  // The same packet, encoded once per published event and shared by every socket it goes to.
  void send_published(const PublishedEvent& event) override;
  // 41 (Socket.IO DISCONNECT, which clients do not retry), then the session closes.
  void close(std::string_view reason) override;

 private:
  void queue(std::shared_ptr<const std::string> payload);

  // Weak: channels may hold the connection after the session has gone.
  std::weak_ptr<EngineSession> session_;
};

}  // namespace plume::transport::socketio
