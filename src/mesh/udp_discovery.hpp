// UDP multicast discovery: one socket per agent, bound with SO_REUSEADDR to the group's port so
// that several nodes on one host share it, joined to the group on one interface. Every agent
// sends its signed announcement to the group at start (twice, quickly), every announce_interval,
// and at once when it hears an instance it did not know (so the newcomer learns of it within a
// round trip instead of an interval), and a goodbye on stop.
#pragma once

#include "mesh/discovery.hpp"

#include <memory>

namespace plume::mesh {

class UdpDiscovery final : public Discovery {
 public:
  UdpDiscovery(boost::asio::any_io_executor executor, const MeshOptions& options);
  ~UdpDiscovery() override;

  void start(Announcement self, DiscoveryEvents events) override;
  void stop() override;
  std::string readiness() const override;
  std::uint64_t rejected() const noexcept override;
  std::string name() const override { return "udp"; }

  struct State;

 private:
  std::shared_ptr<State> state_;
};

}  // namespace plume::mesh
