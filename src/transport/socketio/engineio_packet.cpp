#include "transport/socketio/engineio_packet.hpp"

namespace plume::transport::socketio {

std::optional<EnginePacket> parse_engine_packet(std::string_view text) {
  if (text.empty()) return std::nullopt;
  if (text.front() == 'b') return EnginePacket{EnginePacketType::Message, text.substr(1), true};
  char type = text.front();
  if (type < '0' || type > '6') return std::nullopt;
  return EnginePacket{static_cast<EnginePacketType>(type), text.substr(1), false};
}

std::optional<std::vector<EnginePacket>> parse_engine_payload(std::string_view body) {
  std::vector<EnginePacket> packets;
  for (;;) {
    auto end = body.find(kRecordSeparator);
    auto packet = parse_engine_packet(body.substr(0, end));
    if (!packet) return std::nullopt;
    packets.push_back(*packet);
    if (end == std::string_view::npos) break;
    body.remove_prefix(end + 1);
  }
  return packets;
}

std::string encode_engine_packet(EnginePacketType type, std::string_view data) {
  std::string out;
  out.reserve(data.size() + 1);
  out.push_back(static_cast<char>(type));
  out.append(data);
  return out;
}

std::string join_engine_packets(const std::vector<std::string>& encoded) {
  std::size_t size = 0;
  for (const auto& packet : encoded) size += packet.size() + 1;
  std::string out;
  out.reserve(size);
  for (std::size_t i = 0; i < encoded.size(); ++i) {
    if (i > 0) out.push_back(kRecordSeparator);
    out.append(encoded[i]);
  }
  return out;
}

}  // namespace plume::transport::socketio
