// mesh/nodes: the mesh as a service (find only), listing this node and every peer it knows with
// their state, latency, services, breakers and calls waiting.
#pragma once

#include <plume/core/service.hpp>

#include <memory>
#include <string_view>

namespace plume::mesh {

class MeshCore;

inline constexpr std::string_view kNodesPath = "mesh/nodes";

class NodesService final : public Service {
 public:
  explicit NodesService(std::weak_ptr<MeshCore> core) : core_(std::move(core)) {}
  Task<Json> find(Params& params) override;
  std::vector<std::string> default_methods() const override { return {"find"}; }

 private:
  std::weak_ptr<MeshCore> core_;
};

}  // namespace plume::mesh
