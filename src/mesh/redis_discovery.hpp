// Redis discovery, for networks without multicast (Kubernetes, clouds). Each agent keeps a
// heartbeat key holding its signed announcement with a TTL of node_timeout, refreshed every
// announce_interval, records its instance in a sorted set scored by expiry (the snapshot index,
// since SCAN polling is ruled out), and publishes every announcement and its goodbye on a
// channel. A snapshot (ZRANGEBYSCORE of live instances, MGET of their keys) runs at start and
// after every reconnection; between snapshots the channel keeps the table current. Every
// announcement is verified with the cluster secret, wherever it was read.
#pragma once

#include "mesh/discovery.hpp"

#include <memory>
#include <string>
#include <string_view>

namespace plume::mesh {

// The Redis names one cluster uses. The cluster name comes from the discovery URL
// (redis://host:6379/0?cluster=name, default "default"), never from the secret.
struct RedisDiscoveryKeys {
  std::string prefix;     // plume:mesh:<cluster>
  std::string instances;  // <prefix>:instances, sorted set: instance -> expiry (Unix ms)
  std::string channel;    // <prefix>:announce, pub/sub channel of announcements and goodbyes
  std::string node(std::string_view instance) const { return prefix + ":node:" + std::string(instance); }
};
RedisDiscoveryKeys redis_discovery_keys(std::string_view cluster);

class RedisDiscovery final : public Discovery {
 public:
  // `options.discovery` is the redis:// URL; a ?cluster= query names the cluster.
  RedisDiscovery(boost::asio::any_io_executor executor, const MeshOptions& options);
  ~RedisDiscovery() override;

  void start(Announcement self, DiscoveryEvents events) override;
  // Sends the goodbye (deletes the key, removes the instance from the set, publishes the
  // goodbye). Called from outside the executor's threads it waits for that, up to a second;
  // called on them it cannot wait, and peers that miss the goodbye see the key expire.
  void stop() override;
  std::string readiness() const override;
  std::uint64_t rejected() const noexcept override;
  std::string name() const override { return "redis"; }

  struct State;

 private:
  std::shared_ptr<State> state_;
};

}  // namespace plume::mesh
