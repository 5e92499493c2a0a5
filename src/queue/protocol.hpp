// The Redis protocol of a queue N, shared by producers in any language and Plume's workers.
//
// Keys
//   N.queue               list of jobs. Producers LPUSH; workers take from the right (FIFO).
//   N.processing:<worker> list of the jobs one worker has taken and not yet reported.
//   N.worker:<worker>     liveness key, refreshed every `heartbeat` with PX worker_timeout.
//   N.workers             set of the workers that may hold jobs (the reaper's index).
//   N.delayed             sorted set of jobs waiting for a retry, scored by due time (ms, Redis TIME).
//   N.done                list of outcomes, newest first, trimmed to done_length.
//   N.dead                list of jobs that will not be retried (never trimmed).
//   N.job:<id>            the latest status record of one job, expiring status_ttl after it changed.
//
// A job is any JSON text. A JSON object with a member "data" is an envelope:
//   {"id": "a1" | 42 (optional), "data": <payload>, "queuedAt": "<ISO-8601>" (optional), ...}
// anything else is a bare payload, handled as {"data": <payload>}. The worker passes `data` to the
// service method (create(data) or a custom method(data)) and the job's {id, attempts, queuedAt}
// in params.extra["job"]. Members other than id, data, queuedAt, attempts and lastError are kept
// and ignored. A job without an id gets one when a worker first takes it (the stored job is
// rewritten with it, so that a job handed out again keeps its id).
//
// Taking: a worker moves jobs from N.queue into its processing list atomically (one Lua script
// for up to a batch of jobs; BLMOVE N.queue N.processing:<worker> RIGHT LEFT when it waits), and
// writes status "active". A job that is not valid JSON goes to N.dead (and a "failed" outcome to
// N.done) at once. Reporting: one Lua script per batch removes the jobs from the processing list
// and, only for jobs still there, pushes outcomes to N.done, schedules retries in N.delayed
// (envelope with attempts and lastError set, due after backoff doubling per attempt), or moves
// the job to N.dead after max_attempts. A script that may or may not have run is simply sent
// again: jobs no longer in the processing list are skipped, so a report is applied once.
// Jobs are delivered at least once: a worker that dies leaves its jobs in its processing list,
// and once its liveness key expired the reaper (any node, one atomic script) pushes them back to
// the front of N.queue. Handlers must tolerate a job running twice.
//
// Records (JSON):
//   N.done, status:  {"id", "status": "done", "result", "attempts", "queuedAt", "startedAt", "finishedAt"}
//                    {"id", "status": "failed", "error": {Feathers error}, "attempts", ... }
//   N.job:<id> also: {"id", "status": "queued" | "active" | "retrying", "attempts", "queuedAt", ...}
//   N.dead:          {"id", "status": "dead", "error", "attempts", "queuedAt", "failedAt", "job"}
//                    where "job" is the envelope (JSON), or the raw text for jobs that are not JSON.
#pragma once

#include <plume/core/json.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace plume::queue::detail {

struct Keys {
  explicit Keys(std::string name);

  std::string name;
  std::string prefix;  // "N."
  std::string queue;
  std::string done;
  std::string dead;
  std::string delayed;
  std::string workers;
  std::string job_prefix;  // "N.job:"

  std::string processing(std::string_view worker) const {
    return prefix + "processing:" + std::string(worker);
  }
  std::string heartbeat(std::string_view worker) const { return prefix + "worker:" + std::string(worker); }
  std::string job(std::string_view id) const { return job_prefix + std::string(id); }
};

// A job as a worker holds it: the text stored in the processing list (what reports refer to)
// and the parsed envelope.
struct Job {
  std::string text;
  Json envelope;
  std::string id;    // the id as a string (also the N.job:<id> key suffix)
  Json id_json;      // the id as the producer gave it (string or number)
  int attempts = 1;  // this attempt, the first being 1
  std::string queued_at;
  std::string started_at;
};

// Parses a job as the take script stored it (always an envelope with an id). Throws plume::Error
// BadRequest when the text is not valid JSON or not such an envelope.
Job parse_job(std::string text, std::string started_at);

// The envelope a producer's value becomes: an object with "data" is kept as is (an id and queuedAt
// are added when absent), anything else is wrapped as {"data": value}.
JsonObject make_envelope(Json value, std::string_view id, std::string_view queued_at);

// Retry delay after `attempts` failed attempts: backoff * 2^(attempts-1), at most backoff_max.
std::chrono::milliseconds retry_delay(int attempts, std::chrono::milliseconds backoff,
                                      std::chrono::milliseconds backoff_max);

// "2026-11-25T12:28:31.123Z" as milliseconds since the epoch, or nullopt when not in that form.
std::optional<std::int64_t> parse_iso8601_ms(std::string_view text);
std::int64_t now_ms();

// 16 random hex digits, for job and worker ids.
std::string random_hex();

}  // namespace plume::queue::detail
