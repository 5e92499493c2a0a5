#include "transport/socketio/feathers_socket.hpp"

#include "transport/socketio/feathers_call.hpp"
#include "transport/socketio/session_registry.hpp"
#include "transport/socketio/socket_connection.hpp"

#include <plume/core/error.hpp>

#include <spdlog/spdlog.h>
#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace plume::transport::socketio {
namespace {

namespace asio = boost::asio;
constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);

}  // namespace

FeathersSocket::FeathersSocket(App& app, const SocketIoOptions& options,
                               const std::shared_ptr<EngineSession>& session, std::string address,
                               std::shared_ptr<SessionAdmission::Ticket> ticket)
    : app_(app),
      options_(options),
      session_(session),
      sid_(session->sid()),
      address_(std::move(address)),
      ticket_(std::move(ticket)),
      call_slot_(session->executor()),
      connect_timer_(session->executor()) {}

void FeathersSocket::start() {
  asio::co_spawn(connect_timer_.get_executor(), connect_deadline(), asio::detached);
}

Task<void> FeathersSocket::connect_deadline() {
  auto self = shared_from_this();
  connect_timer_.expires_after(kConnectTimeout);
  co_await connect_timer_.async_wait(kUseTuple);
  if (closed_ || ever_connected_) co_return;
  if (auto session = session_.lock()) session->close("connect timeout");
}

void FeathersSocket::send(const SocketPacket& packet) {
  if (auto session = session_.lock()) session->send_message(encode_socket_packet(packet));
}

void FeathersSocket::refuse(std::string_view reason) {
  spdlog::info("event=socketio_protocol_error sid={} reason=\"{}\"", sid_, reason);
  if (auto session = session_.lock()) session->close(reason);
}

Task<void> FeathersSocket::on_message(std::string_view message) {
  if (closed_) co_return;
  std::string error;
  auto packet = parse_socket_packet(message, &error);
  if (!packet) {
    refuse("parse error: " + error);
    co_return;
  }
  if (packet->nsp != "/") {
    // Only the main namespace exists (Feathers' server); socket.io answers a CONNECT elsewhere
    // with CONNECT_ERROR and treats any other packet there as an invalid state.
    if (packet->type == SocketPacketType::Connect) {
      send(SocketPacket{SocketPacketType::ConnectError, packet->nsp, std::nullopt,
                        JsonObject{{"message", "Invalid namespace"}}, 0});
    } else {
      refuse("invalid state");
    }
    co_return;
  }
  switch (packet->type) {
    case SocketPacketType::Connect:
      if (connection_) {
        refuse("invalid state");
      } else {
        co_await connect();
      }
      break;
    case SocketPacketType::Disconnect:
      if (!connection_) {
        refuse("invalid state");
      } else {
        disconnect();
      }
      break;
    case SocketPacketType::Event:
    case SocketPacketType::BinaryEvent:
      if (!connection_) {
        refuse("invalid state");
      } else {
        co_await call(*packet);
      }
      break;
    case SocketPacketType::Ack:
    case SocketPacketType::BinaryAck:
      // The server asks clients for no acknowledgements.
      if (!connection_) refuse("invalid state");
      break;
    case SocketPacketType::ConnectError:
      refuse("invalid state");
      break;
  }
}

Task<void> FeathersSocket::connect() {
  auto self = shared_from_this();
  auto session = session_.lock();
  if (!session) co_return;
  auto connection = std::make_shared<SocketConnection>(random_session_id(), session->headers(), session_);
  session.reset();
  if (options_.on_connect) {
    try {
      auto hook = options_.on_connect(connection);
      co_await std::move(hook);
    } catch (...) {
      auto error = Error::from_exception(std::current_exception());
      JsonObject payload{{"message", error.message()}};
      if (!error.data().is_null()) payload["data"] = error.data();
      if (!closed_)
        send(SocketPacket{SocketPacketType::ConnectError, "/", std::nullopt, std::move(payload), 0});
      co_return;
    }
  }
  if (closed_) co_return;
  connection_ = connection;
  ever_connected_ = true;
  if (ticket_) ticket_->connected();
  connect_timer_.cancel();
  send(SocketPacket{SocketPacketType::Connect, "/", std::nullopt, JsonObject{{"sid", connection->id()}}, 0});
  app_.connect(connection);
}

void FeathersSocket::disconnect() {
  auto connection = std::move(connection_);
  connection_.reset();
  if (connection) app_.disconnect(connection);
}

bool FeathersSocket::some_service_exposes(std::string_view method) const {
  const auto services = app_.services();
  return std::any_of(services->begin(), services->end(),
                     [&](const auto& entry) { return entry->exposes(method); });
}

Task<void> FeathersSocket::call(const SocketPacket& packet) {
  if (packet.type == SocketPacketType::BinaryEvent) {
    if (packet.id) {
      send(SocketPacket{SocketPacketType::Ack, "/", packet.id,
                        JsonArray{bad_request("Binary packets are not supported").to_json()}, 0});
    }
    co_return;
  }
  const JsonArray& args = packet.data->as_array();
  // Feathers registers one listener per exposed method name; any other event goes unheard
  // (no reply, no acknowledgement). Services come and go at run time (mesh proxies), so the
  // names are those exposed now, not when the client connected.
  if (!args.front().is_string()) co_return;
  std::string method(args.front().get_string());
  if (!some_service_exposes(method)) co_return;

  auto self = shared_from_this();
  while (running_ >= kMaxConcurrentCalls && !closed_) {
    call_slot_.expires_at(asio::steady_timer::time_point::max());
    co_await call_slot_.async_wait(kUseTuple);
  }
  if (closed_ || !connection_) co_return;
  Json path = args.size() > 1 ? args[1] : Json(nullptr);
  JsonArray rest;
  for (std::size_t i = 2; i < args.size(); ++i) rest.push_back(args[i]);
  ++running_;
  asio::co_spawn(call_slot_.get_executor(),
                 run_call(std::move(method), std::move(path), std::move(rest), packet.id, connection_),
                 asio::detached);
}

Task<void> FeathersSocket::run_call(std::string method, Json path, JsonArray args,
                                    std::optional<std::uint64_t> ack_id,
                                    std::shared_ptr<SocketConnection> connection) {
  auto self = shared_from_this();
  JsonArray reply;
  try {
    std::shared_ptr<Connection> caller = connection;
    auto task = run_socket_method(app_, caller, address_, method, path, args);
    Json result = co_await std::move(task);
    reply = JsonArray{nullptr, std::move(result)};
  } catch (...) {
    auto error = Error::from_exception(std::current_exception());
    if (error.status() >= 500) {
      spdlog::error("event=socketio_call_failed sid={} method={} path={} status={} error=\"{}\"", sid_,
                    method, path.is_string() ? std::string_view(path.get_string()) : std::string_view("?"),
                    error.status(), error.message());
    }
    reply = JsonArray{error.to_json()};
  }
  --running_;
  call_slot_.cancel();
  if (ack_id && !closed_) send(SocketPacket{SocketPacketType::Ack, "/", ack_id, std::move(reply), 0});
}

void FeathersSocket::on_close(std::string_view reason) {
  closed_ = true;
  ticket_.reset();
  call_slot_.cancel();
  connect_timer_.cancel();
  disconnect();
}

}  // namespace plume::transport::socketio
