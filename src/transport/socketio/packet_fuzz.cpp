// libFuzzer target for the packet parsers that read client bytes: Engine.IO polling bodies and
// Socket.IO packets. A parsed Socket.IO packet must encode back to text that parses again.
#include "transport/socketio/engineio_packet.hpp"
#include "transport/socketio/socketio_packet.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace plume::transport::socketio;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto packets = parse_engine_payload(text)) {
    for (const auto& packet : *packets) {
      if (packet.type != EnginePacketType::Message || packet.binary) continue;
      if (auto socket_packet = parse_socket_packet(packet.data)) {
        if (!parse_socket_packet(encode_socket_packet(*socket_packet))) std::abort();
      }
    }
  }
  return 0;
}
