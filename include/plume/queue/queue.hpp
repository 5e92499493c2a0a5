// Job queues on Redis lists: any Redis client enqueues work with `LPUSH <name>.queue '<json>'`,
// a node's workers take jobs reliably (at least once) and call a service method with them, and
// report each job's outcome in `<name>.done`. The queue is also the service `queues/<name>`:
// create enqueues, get and find report job status, and status changes are service events.
// The Redis protocol is documented in src/queue/protocol.hpp and README.md.
#pragma once

#include <plume/core/app.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

namespace plume::queue {

namespace detail {
class QueueRuntime;
}

struct QueueOptions {
  // The queue's name N: Redis keys N.queue, N.done, N.dead... and the service queues/N.
  std::string name;
  std::string redis = "redis://127.0.0.1:6379";
  // The service and method each job is passed to: create(data) or a custom method(data).
  std::string service;
  std::string method = "create";
  // Workers on this node, each running one job at a time. 0 runs no workers: the node only
  // offers queues/N (enqueue and status), as an API node in front of separate workers does.
  std::size_t concurrency = 1;
  // Attempts per job, the first included; past them the job goes to N.dead.
  int max_attempts = 5;
  // Delay before the first retry, doubled for each further one, capped at backoff_max.
  std::chrono::milliseconds backoff{1'000};
  std::chrono::milliseconds backoff_max{60'000};
  // N.done keeps the latest done_length outcomes.
  std::size_t done_length = 1'000;
  // Workers refresh their liveness key this often; a worker silent for worker_timeout is dead
  // and the reaper (on any node) returns its jobs to N.queue.
  std::chrono::milliseconds heartbeat{1'000};
  std::chrono::milliseconds worker_timeout{10'000};
  // stop() waits this long for running jobs, then returns them to N.queue.
  std::chrono::milliseconds stop_timeout{10'000};
  // Per-job status records (get, find) live this long after their last change.
  std::chrono::seconds status_ttl{3'600};
  // Most jobs a worker takes from Redis at once; it takes fewer while jobs are slow, so that a
  // busy worker does not hold back jobs that idle workers elsewhere could run.
  std::size_t max_batch = 256;
};

class Queue {
 public:
  // Registers the service queues/<name> on `app` (removed again by the destructor). Throws
  // plume::Error BadRequest for options that cannot work (an empty name, a bad Redis URL,
  // a standard method other than create). The queue's Redis connections and workers run on a
  // thread of their own; service methods are called from it.
  Queue(App& app, QueueOptions options);
  ~Queue();
  Queue(const Queue&) = delete;
  Queue& operator=(const Queue&) = delete;

  // Starts the workers, the heartbeat, the reaper and the retry promoter (once: a stopped queue
  // does not start again).
  void start();
  // Graceful: workers take no new jobs, jobs taken but not started go back to N.queue, running
  // jobs get stop_timeout to finish (then they too go back), outcomes are written, and the
  // workers unregister. queues/<name> keeps answering until the Queue is destroyed.
  void stop();
  // Empty when Redis is reachable, else why not (for /readyz).
  std::string readiness() const;

  const QueueOptions& options() const noexcept;

 private:
  std::shared_ptr<detail::QueueRuntime> runtime_;
  App& app_;
  std::string path_;
};

}  // namespace plume::queue
