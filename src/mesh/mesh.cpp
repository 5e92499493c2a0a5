#include <plume/mesh/mesh.hpp>

#include "mesh/mesh_core.hpp"

namespace plume::mesh {

struct Mesh::Impl {
  std::shared_ptr<MeshCore> core;
  transport::Server* server = nullptr;
};

Mesh::Mesh(App& app, transport::Server& server, MeshOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->core = std::make_shared<MeshCore>(app, std::move(options));
  impl_->server = &server;
  impl_->core->attach(server);
}

Mesh::~Mesh() {
  if (impl_ && impl_->core) impl_->core->stop();
}

void Mesh::start() { impl_->core->start(*impl_->server); }

void Mesh::stop() { impl_->core->stop(); }

std::string Mesh::readiness() const { return impl_->core->readiness(); }

Json Mesh::nodes() const { return impl_->core->nodes(); }

const std::string& Mesh::node_id() const noexcept { return impl_->core->node_id(); }

}  // namespace plume::mesh
