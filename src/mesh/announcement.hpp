// What a node says about itself to the mesh, in discovery packets (UDP datagrams, Redis keys and
// messages) and in the link handshake. Announcements are signed with HMAC-SHA256 of the cluster
// secret; anything unsigned, wrongly signed, of another protocol version or malformed is dropped.
#pragma once

#include <plume/core/digest.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace plume::mesh {

inline constexpr int kProtocolVersion = 1;

struct Announcement {
  int version = kProtocolVersion;
  std::string node;       // the node id (stable across restarts)
  std::string instance;   // random per process start: a restarted node is a new instance
  std::string address;    // host:port where its /_mesh listens
  std::uint64_t seq = 0;  // increases with every announcement of this instance
  bool goodbye = false;   // the node is shutting down
};

// The signed wire form: JSON {"v","node","instance","address","seq","bye","mac"}.
std::string encode_announcement(const Announcement& announcement, std::string_view secret);
// Null when the packet is malformed, of another version, or its mac does not verify.
std::optional<Announcement> decode_announcement(std::string_view packet, std::string_view secret);

}  // namespace plume::mesh
