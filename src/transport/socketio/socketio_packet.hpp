// Socket.IO v5 packets (socket.io-parser 4): <type>[<attachments>-][<nsp>,][<ackId>][<JSON>],
// carried as the payload of an Engine.IO message. The namespace "/" is omitted on the wire.
#pragma once

#include <plume/core/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace plume::transport::socketio {

enum class SocketPacketType : int {
  Connect = 0,
  Disconnect = 1,
  Event = 2,
  Ack = 3,
  ConnectError = 4,
  BinaryEvent = 5,
  BinaryAck = 6,
};

struct SocketPacket {
  SocketPacketType type = SocketPacketType::Event;
  std::string nsp = "/";
  std::optional<std::uint64_t> id;
  std::optional<Json> data;
  std::uint32_t attachments = 0;  // binary packets only
};

// Decodes a packet as socket.io-parser's Decoder does, including its payload checks (CONNECT
// takes nothing or an object, DISCONNECT nothing, EVENT a non-empty array whose first element
// is a non-reserved name or a number, ACK an array). Stricter than the parser in one point: an
// EVENT or ACK without payload, which socket.io would ignore, is refused. On failure returns
// nullopt and sets `error`.
std::optional<SocketPacket> parse_socket_packet(std::string_view text, std::string* error = nullptr);

std::string encode_socket_packet(const SocketPacket& packet);

// Shorthands for what the server sends on "/".
std::string encode_event(std::string_view name, const Json& data);
std::string encode_ack(std::uint64_t id, const Json& args);

}  // namespace plume::transport::socketio
