#include "mesh/remote_service.hpp"

#include "mesh/mesh_core.hpp"

namespace plume::mesh {

Task<Json> RemoteService::forward(std::string method, bool has_record_id, NullableId id, Json data,
                                  Params& params) {
  std::shared_ptr<MeshCore> core = core_.lock();
  if (!core) throw unavailable("The mesh is stopped: " + remote_path_ + " is not reachable from this node");
  auto op =
      core->call(remote_path_, std::move(method), has_record_id, std::move(id), std::move(data), params);
  co_return co_await std::move(op);
}

Task<Json> RemoteService::find(Params& params) {
  return forward("find", false, std::nullopt, nullptr, params);
}

Task<Json> RemoteService::get(const Id& id, Params& params) {
  return forward("get", true, id, nullptr, params);
}

Task<Json> RemoteService::create(Json data, Params& params) {
  return forward("create", false, std::nullopt, std::move(data), params);
}

Task<Json> RemoteService::update(const NullableId& id, Json data, Params& params) {
  return forward("update", true, id, std::move(data), params);
}

Task<Json> RemoteService::patch(const NullableId& id, Json data, Params& params) {
  return forward("patch", true, id, std::move(data), params);
}

Task<Json> RemoteService::remove(const NullableId& id, Params& params) {
  return forward("remove", true, id, nullptr, params);
}

Task<Json> RemoteService::call_custom(std::string_view method, Json data, Params& params) {
  return forward(std::string(method), false, std::nullopt, std::move(data), params);
}

}  // namespace plume::mesh
