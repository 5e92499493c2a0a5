// Shared by the queue tests: a real redis-server, an App with a job service whose behaviour each
// test sets, waiting for conditions, and reading the queue's lists with redis-cli.
#pragma once

#include "queue/queue_runtime.hpp"
#include "testing/redis_server.hpp"

#include <plume/core/app.hpp>
#include <plume/core/error.hpp>
#include <plume/queue/queue.hpp>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace plume::queue::testing {

using namespace std::chrono_literals;

// Waits on the caller's executor without blocking it.
inline Task<void> async_sleep(std::chrono::milliseconds duration) {
  boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor, duration);
  co_await timer.async_wait(boost::asio::use_awaitable);
}

// The service the queue hands jobs to: records every call, then does what the test says.
class JobService final : public Service {
 public:
  using Behaviour = std::function<Task<Json>(const Json& data, const Params& params)>;

  void behave(Behaviour behaviour) {
    std::lock_guard lock(mutex_);
    behaviour_ = std::move(behaviour);
  }

  Task<Json> create(Json data, Params& params) override {
    Behaviour behaviour;
    {
      std::lock_guard lock(mutex_);
      calls_.push_back(data);
      job_params_.push_back(params.extra.contains("job") ? params.extra.at("job") : Json(nullptr));
      behaviour = behaviour_;
    }
    const int now = ++running_;
    int seen = max_running_.load();
    while (now > seen && !max_running_.compare_exchange_weak(seen, now)) {
    }
    struct Leave {
      std::atomic<int>& running;
      ~Leave() { --running; }
    } leave{running_};
    if (!behaviour) co_return data;
    auto op = behaviour(data, params);
    Json result = co_await std::move(op);
    co_return result;
  }

  std::vector<Json> calls() const {
    std::lock_guard lock(mutex_);
    return calls_;
  }
  std::vector<Json> job_params() const {
    std::lock_guard lock(mutex_);
    return job_params_;
  }
  std::size_t call_count() const {
    std::lock_guard lock(mutex_);
    return calls_.size();
  }
  int running() const { return running_.load(); }
  int max_running() const { return max_running_.load(); }

 private:
  mutable std::mutex mutex_;
  Behaviour behaviour_;
  std::vector<Json> calls_;
  std::vector<Json> job_params_;
  std::atomic<int> running_{0};
  std::atomic<int> max_running_{0};
};

// Polls `condition` until it holds or a generous deadline passes (a loaded CI machine is slow).
inline bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds timeout = 30s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return condition();
}

class QueueTest : public ::testing::Test {
 protected:
  explicit QueueTest(plume::testing::RedisServerOptions redis_options = {})
      : redis_(std::move(redis_options)) {
    auto service = std::make_unique<JobService>();
    jobs_ = service.get();
    app_.use("work", std::move(service));
  }

  QueueOptions options(std::string name = "jobs") const {
    QueueOptions options;
    options.name = std::move(name);
    options.redis = redis_.url();
    options.service = "work";
    options.heartbeat = 100ms;
    options.worker_timeout = 1'000ms;
    options.backoff = 50ms;
    options.stop_timeout = 5'000ms;
    return options;
  }

  std::string cli(const std::vector<std::string>& args) const { return redis_.redis_cli_line(args); }
  long long cli_number(const std::vector<std::string>& args) const { return std::stoll(cli(args)); }

  // The elements of a list, head first, each parsed as JSON.
  std::vector<Json> list(const std::string& key) const {
    std::vector<Json> values;
    std::istringstream lines(redis_.redis_cli({"LRANGE", key, "0", "-1"}));
    for (std::string line; std::getline(lines, line);) {
      if (!line.empty()) values.push_back(parse_json(line));
    }
    return values;
  }

  // Every key of the queue that holds jobs in progress (processing lists), for "nothing left" checks.
  long long jobs_in_processing(const std::string& name = "jobs") const {
    std::istringstream keys(redis_.redis_cli({"KEYS", name + ".processing:*"}));
    long long total = 0;
    for (std::string key; std::getline(keys, key);) {
      if (!key.empty()) total += cli_number({"LLEN", key});
    }
    return total;
  }

  plume::testing::RedisServer redis_;
  App app_;
  JobService* jobs_ = nullptr;
};

}  // namespace plume::queue::testing
