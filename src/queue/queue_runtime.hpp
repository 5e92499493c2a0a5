// The running part of a queue: its thread and io_context, the Redis connections, the workers,
// and the loops every node runs (heartbeat, reaper, retry promoter). Queue wraps it and adds
// the service; tests drive it directly.
#pragma once

#include "queue/protocol.hpp"

#include <plume/queue/queue.hpp>
#include <plume/redis/client.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace plume::queue::detail {

class Worker;

class QueueRuntime {
 public:
  // Validates the options (plume::Error BadRequest naming the option) and starts the thread and
  // the control connection; no worker runs before start().
  QueueRuntime(App& app, QueueOptions options);
  ~QueueRuntime();
  QueueRuntime(const QueueRuntime&) = delete;
  QueueRuntime& operator=(const QueueRuntime&) = delete;

  void start();
  void stop();
  std::string readiness() const;

  // Halts the thread at once, as a killed process would: no report, no release, no heartbeat.
  // The jobs the workers held stay in their processing lists for the reaper. Only destruction
  // may follow.
  void freeze();

  // Called on the queue's thread with each status record a worker writes (active, retrying,
  // done, failed), after Redis has it. Set before start().
  void on_status(std::function<void(const Json&)> listener) { status_listener_ = std::move(listener); }

  // Enqueues a producer's value (see protocol.hpp) and returns its "queued" status record.
  Task<Json> enqueue(Json value);

  App& app() noexcept { return app_; }
  const QueueOptions& options() const noexcept { return options_; }
  const Keys& keys() const noexcept { return keys_; }
  redis::Client& control() noexcept { return *control_; }
  boost::asio::any_io_executor executor() { return io_->get_executor(); }
  const std::string& node_id() const noexcept { return node_id_; }
  const std::vector<std::unique_ptr<Worker>>& workers() const noexcept { return workers_; }

  // For workers.
  bool stopping() const noexcept { return stopping_; }
  std::chrono::steady_clock::time_point stop_deadline() const noexcept { return stop_deadline_; }
  void emit_status(const Json& record);
  redis::RedisOptions redis_options(std::string role) const;

 private:
  Task<void> shutdown();
  Task<void> heartbeat_loop();
  Task<void> promote_loop();
  Task<void> sleep(boost::asio::steady_timer& timer, std::chrono::milliseconds duration);

  App& app_;
  QueueOptions options_;
  Keys keys_;
  std::string node_id_;
  std::function<void(const Json&)> status_listener_;

  // The destructor joins the thread, drops the Redis clients, destroys the io_context (and with
  // it the coroutine frames, which may refer to the workers), then the workers.
  std::optional<boost::asio::io_context> io_;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
  std::thread thread_;
  std::shared_ptr<redis::Client> control_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::optional<boost::asio::steady_timer> heartbeat_timer_;
  std::optional<boost::asio::steady_timer> promote_timer_;

  bool started_ = false;
  bool stopped_ = false;
  bool frozen_ = false;
  bool stopping_ = false;
  int loops_running_ = 0;  // heartbeat and promoter
  std::chrono::steady_clock::time_point stop_deadline_{};
};

}  // namespace plume::queue::detail
