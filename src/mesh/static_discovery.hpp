// Static discovery: the peers listed in mesh.peers (ws://host:port). Each is reported seen at
// start and again every announce_interval while running, so the mesh redials a peer that was
// down (it dedupes by the identity the link handshake reveals). Nothing here can tell that a
// peer left: the links detect failures, so gone() is never emitted.
#pragma once

#include "mesh/discovery.hpp"

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace plume::mesh {

// "host:port" from ws://host:port[/], or from host:port; throws std::invalid_argument naming
// the bad entry.
std::string static_peer_address(std::string_view url);

class StaticDiscovery final : public Discovery {
 public:
  StaticDiscovery(boost::asio::any_io_executor executor, const MeshOptions& options);
  ~StaticDiscovery() override;

  void start(Announcement self, DiscoveryEvents events) override;
  void stop() override;
  std::string readiness() const override;
  std::uint64_t rejected() const noexcept override { return 0; }
  std::string name() const override { return "static"; }

  struct State;

 private:
  std::shared_ptr<State> state_;
};

}  // namespace plume::mesh
