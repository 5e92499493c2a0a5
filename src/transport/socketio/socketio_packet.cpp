#include "transport/socketio/socketio_packet.hpp"

#include <plume/core/error.hpp>

#include <array>
#include <charconv>
#include <string>

namespace plume::transport::socketio {
namespace {

// socket.io-parser RESERVED_EVENTS: names a client may not emit.
constexpr std::array<std::string_view, 6> kReservedEvents = {
    "connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"};

// Ack ids are JavaScript numbers; past 2^53 they would not round-trip.
constexpr std::uint64_t kMaxAckId = (std::uint64_t{1} << 53) - 1;

bool is_digit(char c) { return c >= '0' && c <= '9'; }

bool payload_valid(SocketPacketType type, const std::optional<Json>& payload) {
  switch (type) {
    case SocketPacketType::Connect:
      return !payload || payload->is_object();
    case SocketPacketType::Disconnect:
      return !payload;
    case SocketPacketType::ConnectError:
      return payload && (payload->is_string() || payload->is_object());
    case SocketPacketType::Event:
    case SocketPacketType::BinaryEvent: {
      if (!payload || !payload->is_array() || payload->as_array().empty()) return false;
      const Json& name = payload->as_array().front();
      if (name.is_number()) return true;
      if (!name.is_string()) return false;
      std::string_view text = name.get_string();
      for (auto reserved : kReservedEvents) {
        if (text == reserved) return false;
      }
      return true;
    }
    case SocketPacketType::Ack:
    case SocketPacketType::BinaryAck:
      return payload && payload->is_array();
  }
  return false;
}

// Payload JSON goes through plume::parse_json: the same depth limit as every other input, and
// doubles read with correct rounding (a number a client sends comes back unchanged).
std::optional<Json> parse_payload(std::string_view text) {
  try {
    return parse_json(text);
  } catch (const Error&) {
    return std::nullopt;
  }
}

std::optional<SocketPacket> fail(std::string* error, const char* message) {
  if (error) *error = message;
  return std::nullopt;
}

}  // namespace

std::optional<SocketPacket> parse_socket_packet(std::string_view text, std::string* error) {
  if (text.empty() || text[0] < '0' || text[0] > '6') return fail(error, "unknown packet type");
  SocketPacket packet;
  packet.type = static_cast<SocketPacketType>(text[0] - '0');
  std::size_t i = 1;

  if (packet.type == SocketPacketType::BinaryEvent || packet.type == SocketPacketType::BinaryAck) {
    std::size_t start = i;
    while (i < text.size() && text[i] != '-') ++i;
    std::uint32_t count = 0;
    auto [end, ec] = std::from_chars(text.data() + start, text.data() + i, count);
    if (i == text.size() || start == i || ec != std::errc{} || end != text.data() + i) {
      return fail(error, "illegal attachments");
    }
    packet.attachments = count;
    ++i;  // the '-'
  }

  if (i < text.size() && text[i] == '/') {
    std::size_t start = i;
    while (i < text.size() && text[i] != ',') ++i;
    packet.nsp = std::string(text.substr(start, i - start));
    if (i < text.size()) ++i;  // the ','
  }

  if (i < text.size() && is_digit(text[i])) {
    std::size_t start = i;
    while (i < text.size() && is_digit(text[i])) ++i;
    std::uint64_t id = 0;
    auto [end, ec] = std::from_chars(text.data() + start, text.data() + i, id);
    if (ec != std::errc{} || id > kMaxAckId) return fail(error, "invalid ack id");
    packet.id = id;
  }

  if (i < text.size()) {
    auto payload = parse_payload(text.substr(i));
    if (!payload) return fail(error, "invalid payload");
    packet.data = std::move(*payload);
  }
  if (!payload_valid(packet.type, packet.data)) return fail(error, "invalid payload");
  return packet;
}

std::string encode_socket_packet(const SocketPacket& packet) {
  std::string out;
  out.push_back(static_cast<char>('0' + static_cast<int>(packet.type)));
  if (packet.type == SocketPacketType::BinaryEvent || packet.type == SocketPacketType::BinaryAck) {
    out += std::to_string(packet.attachments);
    out.push_back('-');
  }
  if (packet.nsp != "/") {
    out += packet.nsp;
    out.push_back(',');
  }
  if (packet.id) out += std::to_string(*packet.id);
  if (packet.data) append_json_text(out, *packet.data);
  return out;
}

std::string encode_event(std::string_view name, const Json& data) {
  std::string out = "2[";
  append_json_text(out, Json(name));
  out.push_back(',');
  append_json_text(out, data);
  out.push_back(']');
  return out;
}

std::string encode_ack(std::uint64_t id, const Json& args) {
  std::string out = "3" + std::to_string(id);
  append_json_text(out, args);
  return out;
}

}  // namespace plume::transport::socketio
