// Engine.IO v4 packets (engine.io-parser 5): a type digit followed by a text payload. Polling
// bodies carry several packets joined by the record separator \x1e; a WebSocket frame carries
// one. Binary packets ("b<base64>" in polling bodies) are recognised so they can be dropped.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace plume::transport::socketio {

enum class EnginePacketType : char {
  Open = '0',
  Close = '1',
  Ping = '2',
  Pong = '3',
  Message = '4',
  Upgrade = '5',
  Noop = '6',
};

// A decoded packet; `data` points into the text it was parsed from.
struct EnginePacket {
  EnginePacketType type = EnginePacketType::Noop;
  std::string_view data;
  bool binary = false;  // a "b<base64>" message: data is still base64
};

// engine-io-parser commons.ts SEPARATOR = String.fromCharCode(30).
inline constexpr char kRecordSeparator = '\x1e';

// One packet from its text form; nullopt for an empty text or an unknown type digit.
std::optional<EnginePacket> parse_engine_packet(std::string_view text);
// The packets of a polling POST body; nullopt when any of them is malformed (decodePayload
// stops at the first error packet, and the server closes the session on it).
std::optional<std::vector<EnginePacket>> parse_engine_payload(std::string_view body);

std::string encode_engine_packet(EnginePacketType type, std::string_view data = {});
// Encoded packets joined with the record separator, as a polling GET returns them.
std::string join_engine_packets(const std::vector<std::string>& encoded);

}  // namespace plume::transport::socketio
