#include "queue/queue_runtime.hpp"

#include "queue/scripts.hpp"
#include "queue/worker.hpp"

#include <plume/core/error.hpp>
#include <plume/core/metrics.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>

#include <spdlog/spdlog.h>

#include <unistd.h>

#include <algorithm>
#include <future>
#include <mutex>

namespace plume::queue::detail {

namespace {

using Clock = std::chrono::steady_clock;

void describe_metrics() {
  static std::once_flag once;
  std::call_once(once, [] {
    auto& metrics = MetricsRegistry::global();
    metrics.describe("plume_queue_length", "gauge", "Jobs waiting in <queue>.queue");
    metrics.describe("plume_queue_delayed", "gauge", "Jobs waiting for a retry in <queue>.delayed");
    metrics.describe("plume_queue_dead", "gauge", "Jobs in <queue>.dead");
    metrics.describe("plume_queue_in_flight", "gauge", "Jobs running on this node");
    metrics.describe("plume_queue_jobs_done_total", "counter", "Jobs completed by this node's workers");
    metrics.describe("plume_queue_jobs_failed_total", "counter", "Failed job attempts (retried or dead)");
    metrics.describe("plume_queue_jobs_dead_total", "counter", "Jobs moved to <queue>.dead by this node");
    metrics.describe("plume_queue_job_duration_seconds", "histogram", "Time a job's service call took");
    metrics.describe("plume_queue_job_latency_seconds", "histogram", "Time from enqueue to outcome");
  });
}

void validate(const QueueOptions& options) {
  const auto fail = [&](const std::string& message) {
    throw bad_request("queue '" + options.name + "': " + message);
  };
  if (options.name.empty())
    throw bad_request("a queue needs a name (the Redis keys are <name>.queue, <name>.done)");
  if (options.name.find_first_of(" \t\r\n") != std::string::npos) fail("the name must not contain spaces");
  try {
    redis::parse_redis_url(options.redis);
  } catch (const std::invalid_argument& error) {
    fail(std::string("redis: ") + error.what());
  }
  if (options.concurrency > 0 && options.service.empty())
    fail("service: the service that runs the jobs is required");
  if (options.method.empty()) fail("method must not be empty");
  if (is_standard_method(options.method) && options.method != "create") {
    fail("method: jobs are passed as data to create or a custom method, not to '" + options.method + "'");
  }
  if (options.max_attempts < 1) fail("maxAttempts must be at least 1");
  if (options.backoff.count() < 1) fail("backoff must be positive");
  if (options.backoff_max < options.backoff) fail("backoffMax must not be below backoff");
  if (options.done_length < 1) fail("doneLength must be at least 1");
  if (options.heartbeat.count() < 1) fail("heartbeat must be positive");
  if (options.worker_timeout <= options.heartbeat) {
    fail("workerTimeout must be longer than the heartbeat, or live workers would be taken for dead");
  }
  if (options.status_ttl.count() < 1) fail("statusTtl must be at least one second");
}

std::string make_node_id() {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0 || host[0] == '\0') std::snprintf(host, sizeof host, "node");
  return std::string(host) + "-" + std::to_string(::getpid()) + "-" + random_hex().substr(0, 8);
}

}  // namespace

QueueRuntime::QueueRuntime(App& app, QueueOptions options)
    : app_(app),
      options_(std::move(options)),
      keys_((validate(options_), options_.name)),
      node_id_(make_node_id()) {
  describe_metrics();
  io_.emplace(1);
  work_.emplace(io_->get_executor());
  control_ = redis::Client::create(io_->get_executor(), redis_options("control"));
  for (std::size_t i = 0; i < options_.concurrency; ++i)
    workers_.push_back(std::make_unique<Worker>(*this, i));
  heartbeat_timer_.emplace(*io_);
  promote_timer_.emplace(*io_);
  thread_ = std::thread([this] {
    for (;;) {
      try {
        io_->run();
        return;
      } catch (const std::exception& error) {
        spdlog::error("event=queue_thread_error queue={} error=\"{}\"", keys_.name, error.what());
      }
    }
  });
}

QueueRuntime::~QueueRuntime() {
  if (!frozen_) {
    try {
      stop();
    } catch (const std::exception& error) {
      spdlog::warn("event=queue_stop_failed queue={} error=\"{}\"", keys_.name, error.what());
    }
    // Close the connections on their thread before it ends, so that Redis sees them go.
    std::promise<void> closed;
    boost::asio::post(*io_, [this, &closed] {
      control_->close();
      for (auto& worker : workers_) worker->close();
      closed.set_value();
    });
    closed.get_future().wait();
  }
  work_.reset();
  io_->stop();
  if (thread_.joinable()) thread_.join();
  for (auto& worker : workers_) worker->drop_client();
  control_.reset();
  heartbeat_timer_.reset();
  promote_timer_.reset();
  io_.reset();
  workers_.clear();
}

redis::RedisOptions QueueRuntime::redis_options(std::string role) const {
  redis::RedisOptions redis;
  redis.url = options_.redis;
  redis.client_name = "plume-queue-" + keys_.name + "-" + role;
  for (auto& c : redis.client_name) {
    if (c == ' ') c = '-';
  }
  return redis;
}

void QueueRuntime::start() {
  if (started_ || frozen_) return;
  if (stopped_) {
    spdlog::warn(
        "event=queue_restart_ignored queue={} note=\"a stopped queue does not start again; create a new "
        "one\"",
        keys_.name);
    return;
  }
  started_ = true;
  boost::asio::post(*io_, [this] {
    stopping_ = false;
    for (auto& worker : workers_) {
      boost::asio::co_spawn(*io_, worker->run(), [this, &worker](std::exception_ptr error) {
        if (error) spdlog::error("event=queue_worker_ended queue={} worker={}", keys_.name, worker->id());
      });
    }
    loops_running_ = 2;
    boost::asio::co_spawn(*io_, heartbeat_loop(), boost::asio::detached);
    boost::asio::co_spawn(*io_, promote_loop(), boost::asio::detached);
  });
  spdlog::info("event=queue_started queue={} service={} method={} concurrency={} node={}", keys_.name,
               options_.service, options_.method, options_.concurrency, node_id_);
}

void QueueRuntime::stop() {
  if (!started_ || frozen_) return;
  started_ = false;
  stopped_ = true;
  auto done = boost::asio::co_spawn(*io_, shutdown(), boost::asio::use_future);
  done.get();
  spdlog::info("event=queue_stopped queue={} node={}", keys_.name, node_id_);
}

void QueueRuntime::freeze() {
  frozen_ = true;
  io_->stop();
  if (thread_.joinable()) thread_.join();
}

Task<void> QueueRuntime::sleep(boost::asio::steady_timer& timer, std::chrono::milliseconds duration) {
  timer.expires_after(duration);
  boost::system::error_code ignored;
  co_await timer.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ignored));
}

Task<void> QueueRuntime::shutdown() {
  stopping_ = true;
  stop_deadline_ = Clock::now() + options_.stop_timeout;
  for (auto& worker : workers_) worker->request_stop();

  // Running jobs get stop_timeout to finish and be reported.
  boost::asio::steady_timer poll(*io_);
  const auto all_finished = [&] {
    return std::all_of(workers_.begin(), workers_.end(),
                       [](const auto& worker) { return worker->finished(); });
  };
  while (!all_finished() && Clock::now() < stop_deadline_) {
    auto op = sleep(poll, std::chrono::milliseconds(10));
    co_await std::move(op);
  }
  for (auto& worker : workers_) {
    if (!worker->finished()) {
      worker->abandon();
      spdlog::warn(
          "event=queue_job_abandoned queue={} worker={} timeout_ms={} note=\"returned to the queue\"",
          keys_.name, worker->id(), options_.stop_timeout.count());
    }
  }

  // Jobs taken but not run (and those abandoned) go back to the front of the queue, and the
  // workers leave N.workers. Redis may be down: a few attempts, then the reaper will do it.
  for (auto& worker : workers_) {
    for (int attempt = 0; attempt < 5; ++attempt) {
      try {
        auto op = release_script().run(
            *control_,
            {keys_.processing(worker->id()), keys_.queue, keys_.heartbeat(worker->id()), keys_.workers},
            {worker->id(), "1"});
        redis::Reply returned = co_await std::move(op);
        if (returned.integer > 0) {
          spdlog::info("event=queue_jobs_returned queue={} worker={} jobs={}", keys_.name, worker->id(),
                       returned.integer);
        }
        break;
      } catch (const std::exception& error) {
        spdlog::warn("event=queue_release_failed queue={} worker={} error=\"{}\"", keys_.name, worker->id(),
                     error.what());
      }
      auto op = sleep(poll, std::chrono::milliseconds(200));
      co_await std::move(op);
    }
  }

  heartbeat_timer_->cancel();
  promote_timer_->cancel();
  while (loops_running_ > 0) {
    auto op = sleep(poll, std::chrono::milliseconds(5));
    co_await std::move(op);
  }
}

Task<void> QueueRuntime::heartbeat_loop() {
  const MetricLabels labels{{"queue", keys_.name}};
  auto& metrics = MetricsRegistry::global();
  bool warned = false;
  while (!stopping_) {
    try {
      std::vector<std::vector<std::string>> commands;
      const std::string timeout = std::to_string(options_.worker_timeout.count());
      for (const auto& worker : workers_) {
        // The key first: the reaper must never see a registered worker without one.
        commands.push_back({"SET", keys_.heartbeat(worker->id()), "1", "PX", timeout});
        commands.push_back({"SADD", keys_.workers, worker->id()});
      }
      commands.push_back({"LLEN", keys_.queue});
      commands.push_back({"ZCARD", keys_.delayed});
      commands.push_back({"LLEN", keys_.dead});
      auto op = control_->pipeline(std::move(commands));
      std::vector<redis::Reply> replies = co_await std::move(op);
      const std::size_t n = replies.size();
      metrics.set_gauge("plume_queue_length", labels, static_cast<double>(replies[n - 3].integer));
      metrics.set_gauge("plume_queue_delayed", labels, static_cast<double>(replies[n - 2].integer));
      metrics.set_gauge("plume_queue_dead", labels, static_cast<double>(replies[n - 1].integer));

      auto reap = reap_script().run(*control_, {keys_.workers, keys_.queue}, {keys_.prefix});
      redis::Reply returned = co_await std::move(reap);
      if (returned.integer > 0) {
        spdlog::warn(
            "event=queue_jobs_reaped queue={} jobs={} note=\"jobs of workers whose heartbeat expired\"",
            keys_.name, returned.integer);
      }
      if (warned) spdlog::info("event=queue_redis_back queue={} redis={}", keys_.name, control_->address());
      warned = false;
    } catch (const std::exception& error) {
      if (!warned) {
        spdlog::warn("event=queue_redis_unavailable queue={} redis={} error=\"{}\"", keys_.name,
                     control_->address(), error.what());
      }
      warned = true;
    }
    auto op = sleep(*heartbeat_timer_, options_.heartbeat);
    co_await std::move(op);
  }
  --loops_running_;
}

Task<void> QueueRuntime::promote_loop() {
  // Often enough that a retry starts close to its due time, and not more than needed.
  const auto tick =
      std::clamp(options_.backoff / 4, std::chrono::milliseconds(10), std::chrono::milliseconds(500));
  while (!stopping_) {
    try {
      auto op = promote_script().run(*control_, {keys_.delayed, keys_.queue}, {"1000"});
      co_await std::move(op);
    } catch (const std::exception&) {
      // The heartbeat loop reports Redis outages; retries simply wait for it.
    }
    auto op = sleep(*promote_timer_, tick);
    co_await std::move(op);
  }
  --loops_running_;
}

void QueueRuntime::emit_status(const Json& record) {
  if (!status_listener_) return;
  try {
    status_listener_(record);
  } catch (const std::exception& error) {
    spdlog::warn("event=queue_status_listener_failed queue={} error=\"{}\"", keys_.name, error.what());
  }
}

std::string QueueRuntime::readiness() const {
  if (control_ && control_->connected()) return "";
  return "queue '" + keys_.name + "': Redis at " + (control_ ? control_->address() : options_.redis) +
         " is unavailable";
}

Task<Json> QueueRuntime::enqueue(Json value) {
  const std::string queued_at = now_iso8601();
  JsonObject envelope = make_envelope(std::move(value), random_hex() + random_hex(), queued_at);
  const Json& id = envelope.at("id");
  const std::string id_text = id.is_string() ? std::string(id.get_string()) : to_json_text(id);
  JsonObject record{{"id", id}, {"status", "queued"}, {"attempts", 0}, {"queuedAt", envelope.at("queuedAt")}};
  auto op = enqueue_script().run(
      *control_, {keys_.queue, keys_.job(id_text)},
      {to_json_text(envelope), to_json_text(record), std::to_string(options_.status_ttl.count())});
  co_await std::move(op);
  co_return Json(std::move(record));
}

}  // namespace plume::queue::detail
