#include <plume/queue/queue.hpp>

#include "queue/queue_runtime.hpp"
#include "queue/queue_service.hpp"

#include <spdlog/spdlog.h>

namespace plume::queue {

Queue::Queue(App& app, QueueOptions options)
    : runtime_(std::make_shared<detail::QueueRuntime>(app, std::move(options))),
      app_(app),
      path_("queues/" + runtime_->options().name) {
  app.use(path_, std::make_unique<detail::QueueService>(runtime_), ServiceOptions{});
  // Status changes are `patched` events of queues/<name>, so a real-time client can follow a job.
  std::weak_ptr<ServiceEntry> entry = app.find_shared(path_);
  runtime_->on_status([entry](const Json& record) {
    if (auto service = entry.lock()) service->service().emit("patched", record);
  });
}

Queue::~Queue() {
  try {
    runtime_->stop();
  } catch (const std::exception& error) {
    spdlog::warn("event=queue_stop_failed path={} error=\"{}\"", path_, error.what());
  }
  app_.unuse(path_);
}

void Queue::start() { runtime_->start(); }

void Queue::stop() { runtime_->stop(); }

std::string Queue::readiness() const { return runtime_->readiness(); }

const QueueOptions& Queue::options() const noexcept { return runtime_->options(); }

}  // namespace plume::queue
