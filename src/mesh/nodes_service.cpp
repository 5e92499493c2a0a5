#include "mesh/nodes_service.hpp"

#include "mesh/mesh_core.hpp"
#include "mesh/metrics_names.hpp"

#include <plume/core/metrics.hpp>

#include <mutex>

namespace plume::mesh {

Task<Json> NodesService::find(Params&) {
  auto core = core_.lock();
  if (!core) throw unavailable("The mesh is stopped");
  co_return core->nodes();
}

Json MeshCore::nodes() const {
  const SteadyTime t = std::chrono::steady_clock::now();
  JsonArray list;
  JsonArray own;
  for (const auto& service : published_services()) own.emplace_back(service.path);
  list.emplace_back(JsonObject{{"id", node_id_},
                               {"instance", instance_},
                               {"address", address_},
                               {"state", started_ && !stopping_ ? "up" : "stopped"},
                               {"latencyMs", 0},
                               {"services", std::move(own)},
                               {"breakers", JsonObject{}},
                               {"pending", 0},
                               {"self", true}});
  std::lock_guard lock(mutex_);
  for (const auto& [instance, peer] : peers_) {
    JsonArray services;
    for (const auto& [path, descriptor] : peer.services) services.emplace_back(path);
    JsonObject breakers;
    for (const auto& [path, breaker] : peer.breakers) breakers[path] = breaker.to_json(t);
    const double latency = peer.link ? static_cast<double>(peer.link->latency().count()) / 1000.0 : 0.0;
    list.emplace_back(JsonObject{{"id", peer.node},
                                 {"instance", instance},
                                 {"address", peer.address},
                                 {"state", peer.state()},
                                 {"latencyMs", latency},
                                 {"services", std::move(services)},
                                 {"breakers", std::move(breakers)},
                                 {"pending", peer.pending},
                                 {"self", false}});
  }
  return list;
}

void describe_mesh_metrics() {
  static std::once_flag once;
  std::call_once(once, [] {
    auto& metrics = MetricsRegistry::global();
    metrics.describe(kCallsMetric, "counter",
                     "Remote calls through mesh proxies by path, method and outcome");
    metrics.describe(kRetriesMetric, "counter", "Idempotent remote calls retried on another node");
    metrics.describe(kBreakerTripsMetric, "counter", "Circuit breakers opened, by node and path");
    metrics.describe(kLinkEventsMetric, "counter", "Mesh links established (up) and lost (down)");
    metrics.describe(kLinksMetric, "gauge", "Known mesh peers by link state");
    metrics.describe(kEventsMetric, "counter", "Service events sent to and received from peers");
  });
}

}  // namespace plume::mesh
