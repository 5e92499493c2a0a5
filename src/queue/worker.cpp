#include "queue/worker.hpp"

#include "queue/queue_runtime.hpp"
#include "queue/scripts.hpp"

#include <plume/core/app.hpp>
#include <plume/core/error.hpp>
#include <plume/core/metrics.hpp>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <spdlog/spdlog.h>

#include <algorithm>

namespace plume::queue::detail {

namespace {

using Clock = std::chrono::steady_clock;

// A batch that took longer than this is too big: jobs wait in it while other workers may idle.
constexpr auto kSlowBatch = std::chrono::milliseconds(100);
// A full batch done faster than this may grow: fewer round trips per job.
constexpr auto kFastBatch = std::chrono::milliseconds(10);
constexpr auto kRetryPauseMin = std::chrono::milliseconds(100);
constexpr auto kRetryPauseMax = std::chrono::milliseconds(2'000);

const char* kind_name(Outcome::Kind kind) {
  switch (kind) {
    case Outcome::Kind::Done:
      return "done";
    case Outcome::Kind::Dead:
      return "dead";
    case Outcome::Kind::Retry:
      return "retry";
  }
  return "done";
}

// A job that Redis' JSON parser took but ours rejects: dead at once, like any job that is not JSON.
Outcome unreadable_job(std::string text, const Error& error) {
  const std::string now = now_iso8601();
  Outcome outcome;
  outcome.kind = Outcome::Kind::Dead;
  outcome.record =
      JsonObject{{"id", nullptr},   {"status", "failed"}, {"error", error.to_json()}, {"attempts", 1},
                 {"queuedAt", now}, {"startedAt", now},   {"finishedAt", now}};
  outcome.extra = to_json_text(JsonObject{{"id", nullptr},
                                          {"status", "dead"},
                                          {"error", error.to_json()},
                                          {"attempts", 1},
                                          {"queuedAt", now},
                                          {"failedAt", now},
                                          {"job", text}});
  outcome.text = std::move(text);
  return outcome;
}

}  // namespace

Worker::Worker(QueueRuntime& runtime, std::size_t index)
    : runtime_(runtime),
      id_(runtime.node_id() + ":" + std::to_string(index)),
      processing_(runtime.keys().processing(id_)),
      heartbeat_(runtime.keys().heartbeat(id_)),
      client_(redis::Client::create(runtime.executor(), runtime.redis_options("worker " + id_))) {}

void Worker::request_stop() {
  // BLMOVE holds the connection for up to a second; closing it ends the wait now. A job it may
  // just have moved stays in the processing list, which the release at stop gives back.
  if (waiting_ && client_) client_->close();
}

Task<void> Worker::pause(std::chrono::milliseconds duration) {
  boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor);
  const auto until = Clock::now() + duration;
  while (!runtime_.stopping() && Clock::now() < until) {
    timer.expires_after(std::min<Clock::duration>(until - Clock::now(), std::chrono::milliseconds(50)));
    co_await timer.async_wait(boost::asio::use_awaitable);
  }
}

Task<void> Worker::run() {
  const auto& keys = runtime_.keys();
  auto pause_for = std::chrono::milliseconds(kRetryPauseMin);
  std::vector<Outcome> outcomes;
  while (!runtime_.stopping()) {
    bool failed = false;
    try {
      if (must_release_) {
        auto op =
            release_script().run(*client_, {processing_, keys.queue, heartbeat_, keys.workers}, {id_, "0"});
        co_await std::move(op);
        must_release_ = false;
      }
      const auto started = Clock::now();
      outcomes.clear();
      auto take_op = take(outcomes);
      std::vector<Job> jobs = co_await std::move(take_op);
      for (auto& job : jobs) {
        // Jobs not started stay in the processing list; the release at stop returns them.
        if (runtime_.stopping()) break;
        auto job_op = run_job(job);
        outcomes.push_back(co_await std::move(job_op));
      }
      if (!outcomes.empty()) {
        auto report_op = report(outcomes);
        co_await std::move(report_op);
      }
      next_batch_size(jobs.size(), Clock::now() - started);
      pause_for = kRetryPauseMin;
    } catch (const std::exception& error) {
      if (runtime_.stopping()) break;
      // The take may have run without us seeing its reply: whatever sits in our processing list
      // goes back to the queue before we take again.
      must_release_ = true;
      failed = true;
      spdlog::warn("event=queue_take_failed queue={} worker={} error=\"{}\" retry_ms={}", keys.name, id_,
                   error.what(), pause_for.count());
    }
    if (failed) {
      auto op = pause(pause_for);
      co_await std::move(op);
      pause_for = std::min(pause_for * 2, std::chrono::milliseconds(kRetryPauseMax));
    }
  }
  finished_ = true;
}

Task<std::vector<Job>> Worker::take(std::vector<Outcome>& outcomes) {
  const auto& keys = runtime_.keys();
  const auto& options = runtime_.options();
  const auto take_args = [&](std::size_t count, const std::string* moved) {
    return std::vector<std::string>{std::to_string(count),
                                    moved != nullptr ? "1" : "0",
                                    moved != nullptr ? *moved : std::string(),
                                    random_hex(),
                                    now_iso8601(),
                                    std::to_string(options.status_ttl.count()),
                                    std::to_string(options.done_length),
                                    id_,
                                    std::to_string(options.worker_timeout.count()),
                                    keys.job_prefix};
  };
  const std::vector<std::string> take_keys{keys.queue, processing_, keys.dead,
                                           keys.done,  heartbeat_,  keys.workers};

  auto op = take_script().run(*client_, take_keys, take_args(batch_size_, nullptr));
  redis::Reply reply = co_await std::move(op);
  if (reply.elements.empty()) {
    if (runtime_.stopping()) co_return std::vector<Job>{};
    // Nothing queued: wait for a job, moving it as it arrives (BLMOVE), then let the script
    // stamp it and take whatever else came meanwhile.
    waiting_ = true;
    redis::Reply moved;
    try {
      auto wait = client_->command({"BLMOVE", keys.queue, processing_, "RIGHT", "LEFT", "1"});
      moved = co_await std::move(wait);
    } catch (...) {
      waiting_ = false;
      throw;
    }
    waiting_ = false;
    if (moved.is_nil()) co_return std::vector<Job>{};
    auto more = take_script().run(*client_, take_keys, take_args(batch_size_ - 1, &moved.str));
    reply = co_await std::move(more);
  }
  std::vector<Job> jobs;
  jobs.reserve(reply.elements.size());
  const std::string started = now_iso8601();
  for (auto& element : reply.elements) {
    try {
      jobs.push_back(parse_job(element.str, started));
    } catch (const Error& error) {
      outcomes.push_back(unreadable_job(std::move(element.str), error));
    }
  }
  co_return jobs;
}

Task<Outcome> Worker::run_job(Job& job) {
  const auto& options = runtime_.options();
  const MetricLabels labels{{"queue", runtime_.keys().name}};
  auto& metrics = MetricsRegistry::global();
  runtime_.emit_status(JsonObject{{"id", job.id_json},
                                  {"status", "active"},
                                  {"attempts", job.attempts},
                                  {"queuedAt", job.queued_at},
                                  {"startedAt", job.started_at}});

  Params params;
  params.extra["job"] =
      JsonObject{{"id", job.id_json}, {"attempts", job.attempts}, {"queuedAt", job.queued_at}};
  Json data = job.envelope.as_object()["data"];
  metrics.add_gauge("plume_queue_in_flight", labels, 1);
  const auto begin = Clock::now();
  Json result;
  std::optional<Error> failure;
  try {
    if (options.method == "create") {
      auto op = runtime_.app().create(options.service, std::move(data), std::move(params));
      result = co_await std::move(op);
    } else {
      auto op = runtime_.app().call(options.service, options.method, std::move(data), std::move(params));
      result = co_await std::move(op);
    }
  } catch (...) {
    failure = Error::from_exception(std::current_exception());
  }
  metrics.add_gauge("plume_queue_in_flight", labels, -1);

  Outcome outcome;
  outcome.text = job.text;
  outcome.id = job.id;
  outcome.run_seconds = std::chrono::duration<double>(Clock::now() - begin).count();
  const std::string finished = now_iso8601();
  if (const auto queued = parse_iso8601_ms(job.queued_at)) {
    outcome.latency_seconds = static_cast<double>(now_ms() - *queued) / 1000.0;
  }
  JsonObject record{{"id", job.id_json}};
  if (!failure) {
    outcome.kind = Outcome::Kind::Done;
    record["status"] = "done";
    record["result"] = std::move(result);
  } else if (job.attempts < options.max_attempts) {
    outcome.kind = Outcome::Kind::Retry;
    outcome.delay = retry_delay(job.attempts, options.backoff, options.backoff_max);
    record["status"] = "retrying";
    record["error"] = failure->to_json();
    record["retryDelay"] = outcome.delay.count();
    JsonObject next = job.envelope.as_object();
    next["attempts"] = job.attempts;
    next["lastError"] = failure->to_json();
    outcome.extra = to_json_text(next);
    spdlog::info("event=queue_job_retry queue={} id={} attempt={} delay_ms={} error=\"{}\"",
                 runtime_.keys().name, job.id, job.attempts, outcome.delay.count(), failure->message());
  } else {
    outcome.kind = Outcome::Kind::Dead;
    record["status"] = "failed";
    record["error"] = failure->to_json();
    outcome.extra = to_json_text(JsonObject{{"id", job.id_json},
                                            {"status", "dead"},
                                            {"error", failure->to_json()},
                                            {"attempts", job.attempts},
                                            {"queuedAt", job.queued_at},
                                            {"failedAt", finished},
                                            {"job", job.envelope}});
    spdlog::warn("event=queue_job_dead queue={} id={} attempts={} error=\"{}\"", runtime_.keys().name, job.id,
                 job.attempts, failure->message());
  }
  record["attempts"] = job.attempts;
  record["queuedAt"] = job.queued_at;
  record["startedAt"] = job.started_at;
  record[outcome.kind == Outcome::Kind::Retry ? "failedAt" : "finishedAt"] = finished;
  outcome.record = std::move(record);
  co_return outcome;
}

Task<void> Worker::report(std::vector<Outcome>& outcomes) {
  const auto& keys = runtime_.keys();
  const auto& options = runtime_.options();
  std::vector<std::string> args{std::to_string(options.done_length),
                                std::to_string(options.status_ttl.count()), keys.job_prefix};
  args.reserve(3 + outcomes.size() * 6);
  for (const auto& outcome : outcomes) {
    args.push_back(kind_name(outcome.kind));
    args.push_back(outcome.text);
    args.push_back(outcome.id);
    args.push_back(to_json_text(outcome.record));
    args.push_back(outcome.extra);
    args.push_back(std::to_string(outcome.delay.count()));
  }
  const std::vector<std::string> report_keys{processing_, keys.queue, keys.done, keys.dead, keys.delayed};

  redis::Reply reply;
  auto pause_for = std::chrono::milliseconds(kRetryPauseMin);
  for (;;) {
    if (abandoned_) co_return;
    bool failed = false;
    try {
      auto op = report_script().run(*client_, report_keys, args);
      reply = co_await std::move(op);
    } catch (const std::exception& error) {
      failed = true;
      if (runtime_.stopping() && Clock::now() >= runtime_.stop_deadline()) {
        spdlog::warn(
            "event=queue_report_abandoned queue={} worker={} jobs={} error=\"{}\" note=\"the jobs stay in {} "
            "and "
            "the reaper returns them to the queue\"",
            keys.name, id_, outcomes.size(), error.what(), processing_);
        co_return;
      }
      spdlog::warn("event=queue_report_failed queue={} worker={} jobs={} error=\"{}\" retry_ms={}", keys.name,
                   id_, outcomes.size(), error.what(), pause_for.count());
    }
    if (!failed) break;
    auto op = pause(pause_for);
    co_await std::move(op);
    pause_for = std::min(pause_for * 2, std::chrono::milliseconds(kRetryPauseMax));
  }

  const MetricLabels labels{{"queue", keys.name}};
  auto& metrics = MetricsRegistry::global();
  double done = 0, failed = 0, dead = 0;
  for (std::size_t i = 0; i < outcomes.size(); ++i) {
    // Skipped: the reaper took the job back while we ran it (we were presumed dead); its next
    // run reports it.
    if (i < reply.elements.size() && reply.elements[i].integer == 0) continue;
    const auto& outcome = outcomes[i];
    switch (outcome.kind) {
      case Outcome::Kind::Done:
        ++done;
        break;
      case Outcome::Kind::Retry:
        ++failed;
        break;
      case Outcome::Kind::Dead:
        ++failed;
        ++dead;
        break;
    }
    if (!outcome.id.empty()) {
      metrics.observe("plume_queue_job_duration_seconds", labels, outcome.run_seconds);
      if (outcome.kind != Outcome::Kind::Retry && outcome.latency_seconds >= 0) {
        metrics.observe("plume_queue_job_latency_seconds", labels, outcome.latency_seconds);
      }
      runtime_.emit_status(outcome.record);
    }
  }
  if (done > 0) metrics.increment("plume_queue_jobs_done_total", labels, done);
  if (failed > 0) metrics.increment("plume_queue_jobs_failed_total", labels, failed);
  if (dead > 0) metrics.increment("plume_queue_jobs_dead_total", labels, dead);
}

void Worker::next_batch_size(std::size_t taken, std::chrono::steady_clock::duration elapsed) {
  const std::size_t max_batch = std::max<std::size_t>(1, runtime_.options().max_batch);
  if (taken >= batch_size_ && elapsed < kFastBatch) {
    batch_size_ = std::min(batch_size_ * 2, max_batch);
  } else if (elapsed > kSlowBatch) {
    batch_size_ = std::max<std::size_t>(1, batch_size_ / 2);
  }
}

}  // namespace plume::queue::detail
