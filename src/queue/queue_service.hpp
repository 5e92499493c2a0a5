// queues/<name>: a queue as a Plume service. create enqueues, get returns a job's latest status
// record, find lists jobs by status from the queue's Redis keys (paginated).
#pragma once

#include <plume/core/service.hpp>

#include <memory>

namespace plume::queue::detail {

class QueueRuntime;

class QueueService final : public Service {
 public:
  explicit QueueService(std::shared_ptr<QueueRuntime> runtime) : runtime_(std::move(runtime)) {}

  Task<Json> find(Params& params) override;
  Task<Json> get(const Id& id, Params& params) override;
  Task<Json> create(Json data, Params& params) override;
  std::vector<std::string> default_methods() const override { return {"find", "get", "create"}; }

 private:
  std::shared_ptr<QueueRuntime> runtime_;
};

}  // namespace plume::queue::detail
