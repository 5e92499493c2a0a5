// libFuzzer target for the packet parsers that read client bytes: Engine.IO polling bodies and
// Socket.IO packets. Besides the sanitizers' checks, a parsed Socket.IO packet must encode to
// text that parses again and encodes to the same text: what the server sends back of a client
// packet (namespace, ack id, payload) survives a second trip through a client.
#include "transport/socketio/engineio_packet.hpp"
#include "transport/socketio/socketio_packet.hpp"

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

// 1e400 parses to Infinity, as in JavaScript, and is written as null, as JSON.stringify does: a
// payload holding one cannot come back the same, in socket.io either.
bool has_non_finite(const plume::Json& value) {
  if (value.is_double()) return !std::isfinite(value.get_double());
  if (value.is_array()) {
    for (const auto& item : value.get_array()) {
      if (has_non_finite(item)) return true;
    }
  }
  if (value.is_object()) {
    for (const auto& member : value.get_object()) {
      if (has_non_finite(member.value())) return true;
    }
  }
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace plume::transport::socketio;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto packets = parse_engine_payload(text);
  if (!packets) return 0;
  for (const auto& packet : *packets) {
    if (packet.type != EnginePacketType::Message || packet.binary) continue;
    auto socket_packet = parse_socket_packet(packet.data);
    if (!socket_packet || (socket_packet->data && has_non_finite(*socket_packet->data))) continue;
    std::string encoded = encode_socket_packet(*socket_packet);
    auto again = parse_socket_packet(encoded);
    if (!again) std::abort();
    if (encode_socket_packet(*again) != encoded) std::abort();
  }
  return 0;
}
