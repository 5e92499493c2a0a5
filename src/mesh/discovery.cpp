#include "mesh/discovery.hpp"

#include "mesh/redis_discovery.hpp"
#include "mesh/static_discovery.hpp"
#include "mesh/udp_discovery.hpp"

#include <stdexcept>

namespace plume::mesh {

std::unique_ptr<Discovery> make_discovery(boost::asio::any_io_executor executor, const MeshOptions& options) {
  if (options.secret.empty()) {
    throw std::invalid_argument("mesh.secret is empty: every node of a mesh needs the same cluster secret");
  }
  if (options.announce_interval.count() <= 0 || options.node_timeout <= options.announce_interval) {
    throw std::invalid_argument(
        "mesh node timeout must be longer than the announce interval (several of them)");
  }
  if (options.discovery == "udp") return std::make_unique<UdpDiscovery>(std::move(executor), options);
  if (options.discovery == "static") return std::make_unique<StaticDiscovery>(std::move(executor), options);
  if (options.discovery.starts_with("redis://"))
    return std::make_unique<RedisDiscovery>(std::move(executor), options);
  throw std::invalid_argument("mesh.discovery must be udp, static or redis://host:port, got '" +
                              options.discovery + "'");
}

}  // namespace plume::mesh
