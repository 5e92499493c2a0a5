#include "transport/socketio/socket_connection.hpp"

#include "transport/socketio/socketio_packet.hpp"

#include <boost/asio/post.hpp>

namespace plume::transport::socketio {

namespace {

std::string encode_service_event(std::string_view path, std::string_view event, const Json& data) {
  std::string name;
  name.reserve(path.size() + event.size() + 1);
  name.append(path).append(" ").append(event);
  return encode_event(name, data);
}

}  // namespace

void SocketConnection::send_event(std::string_view path, std::string_view event, const Json& data) {
  // Encoded here: `data` belongs to the caller.
  queue(std::make_shared<const std::string>(encode_service_event(path, event, data)));
}

void SocketConnection::send_published(const PublishedEvent& event) {
  queue(event.encoded("socketio",
                      [&] { return encode_service_event(event.path(), event.event(), event.data()); }));
}

void SocketConnection::queue(std::shared_ptr<const std::string> payload) {
  auto session = session_.lock();
  if (!session || session->closed()) return;
  auto executor = session->executor();
  boost::asio::post(executor, [session = std::move(session), payload = std::move(payload)] {
    session->send_message(*payload);
  });
}

void SocketConnection::close(std::string_view reason) {
  auto session = session_.lock();
  if (!session || session->closed()) return;
  auto executor = session->executor();
  boost::asio::post(executor, [session = std::move(session), reason = std::string(reason)] {
    session->send_message(
        encode_socket_packet(SocketPacket{SocketPacketType::Disconnect, "/", std::nullopt, std::nullopt, 0}));
    session->close(reason);
  });
}

}  // namespace plume::transport::socketio
