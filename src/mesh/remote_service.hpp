// RemoteService is the proxy a node registers for a service another node owns: every method,
// custom ones included, becomes a call over the mesh (balanced, retried, bounded; see
// MeshCore::call). It never emits events itself: they arrive from the owner.
#pragma once

#include <plume/core/service.hpp>

#include <memory>
#include <string>
#include <vector>

namespace plume::mesh {

class MeshCore;

class RemoteService final : public Service {
 public:
  RemoteService(std::weak_ptr<MeshCore> core, std::string path, std::vector<std::string> methods)
      : core_(std::move(core)), remote_path_(std::move(path)), methods_(std::move(methods)) {}

  Task<Json> find(Params& params) override;
  Task<Json> get(const Id& id, Params& params) override;
  Task<Json> create(Json data, Params& params) override;
  Task<Json> update(const NullableId& id, Json data, Params& params) override;
  Task<Json> patch(const NullableId& id, Json data, Params& params) override;
  Task<Json> remove(const NullableId& id, Params& params) override;
  Task<Json> call_custom(std::string_view method, Json data, Params& params) override;
  std::vector<std::string> default_methods() const override { return methods_; }

  const std::string& remote_path() const noexcept { return remote_path_; }

 private:
  Task<Json> forward(std::string method, bool has_record_id, NullableId id, Json data, Params& params);

  std::weak_ptr<MeshCore> core_;
  std::string remote_path_;
  std::vector<std::string> methods_;
};

}  // namespace plume::mesh
