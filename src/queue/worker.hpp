// One worker: takes a batch of jobs into its processing list, runs them one at a time through
// the configured service method, and reports the batch's outcomes in one script.
#pragma once

#include "queue/protocol.hpp"

#include <plume/core/task.hpp>
#include <plume/redis/client.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

namespace plume::queue::detail {

class QueueRuntime;

// What a report says about one job.
struct Outcome {
  enum class Kind { Done, Dead, Retry };
  Kind kind = Kind::Done;
  std::string text;   // the job as stored in the processing list
  std::string id;     // "" for jobs without a status record (not JSON)
  Json record;        // N.done / N.job:<id> record
  std::string extra;  // Dead: the N.dead record; Retry: the next envelope
  std::chrono::milliseconds delay{0};
  double run_seconds = 0;
  double latency_seconds = -1;  // queued to finished, when queuedAt is known
};

class Worker {
 public:
  Worker(QueueRuntime& runtime, std::size_t index);

  const std::string& id() const noexcept { return id_; }
  // The loop, until the runtime stops.
  Task<void> run();
  // Asks the loop to end after the running job; an idle wait is cut short.
  void request_stop();
  // stop() gave up waiting for the running job: its jobs were returned, nothing more to report.
  void abandon() noexcept { abandoned_ = true; }
  bool finished() const noexcept { return finished_; }
  void close() {
    if (client_) client_->close();
  }
  void drop_client() noexcept { client_.reset(); }

 private:
  Task<std::vector<Job>> take(std::vector<Outcome>& outcomes);
  Task<Outcome> run_job(Job& job);
  Task<void> report(std::vector<Outcome>& outcomes);
  Task<void> pause(std::chrono::milliseconds duration);
  void next_batch_size(std::size_t taken, std::chrono::steady_clock::duration elapsed);

  QueueRuntime& runtime_;
  std::string id_;
  std::string processing_;
  std::string heartbeat_;
  std::shared_ptr<redis::Client> client_;
  std::size_t batch_size_ = 1;
  bool waiting_ = false;       // in BLMOVE
  bool must_release_ = false;  // a take may have moved jobs we do not know about
  bool abandoned_ = false;
  bool finished_ = false;
};

}  // namespace plume::queue::detail
