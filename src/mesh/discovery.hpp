// Discovery tells the mesh which nodes exist and where they listen. One agent per process;
// three backends: UDP multicast, Redis (heartbeat keys with a TTL plus pub/sub for changes),
// and a static list of peers.
#pragma once

#include "mesh/announcement.hpp"

#include <plume/core/task.hpp>
#include <plume/mesh/mesh.hpp>

#include <boost/asio/any_io_executor.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace plume::mesh {

struct DiscoveryEvents {
  // A valid announcement of another instance: the first one, and every refresh after it. For
  // static peers `node` and `instance` are empty until the link handshake tells them.
  std::function<void(const Announcement&)> seen;
  // An instance said goodbye or was not heard for node_timeout.
  std::function<void(const std::string& instance)> gone;
};

class Discovery {
 public:
  virtual ~Discovery() = default;
  // Starts announcing `self` (its seq is the agent's to increase) and listening. Events run on
  // the executor given to make_discovery, one at a time (a strand of it).
  virtual void start(Announcement self, DiscoveryEvents events) = 0;
  // Sends a goodbye and stops. Once it returns no event runs or is running (except when stop()
  // is called from inside an event), so what the events use may be destroyed: it waits for an
  // event in progress, so do not call it holding a lock that the event handlers take. Safe from
  // any thread; the destructor calls it.
  virtual void stop() = 0;
  // Empty when running (socket bound, Redis reachable), else why not.
  virtual std::string readiness() const = 0;
  // Packets dropped because they failed verification (wrong secret, malformed, other version).
  virtual std::uint64_t rejected() const noexcept = 0;
  virtual std::string name() const = 0;  // "udp", "redis", "static"
};

// Builds the backend MeshOptions::discovery names: "udp", "static" or "redis://host:port[/db]"
// (with ?cluster=<name> to run several meshes on one Redis). Throws std::invalid_argument for a
// bad value, an empty secret, or a node_timeout not longer than announce_interval.
std::unique_ptr<Discovery> make_discovery(boost::asio::any_io_executor executor, const MeshOptions& options);

}  // namespace plume::mesh
