#include "queue/protocol.hpp"

#include <plume/core/error.hpp>

#include <cstdio>
#include <ctime>
#include <random>

namespace plume::queue::detail {

Keys::Keys(std::string queue_name)
    : name(std::move(queue_name)),
      prefix(name + "."),
      queue(prefix + "queue"),
      done(prefix + "done"),
      dead(prefix + "dead"),
      delayed(prefix + "delayed"),
      workers(prefix + "workers"),
      job_prefix(prefix + "job:") {}

namespace {

std::string id_string(const Json& id) {
  if (id.is_string()) return std::string(id.get_string());
  if (id.is_int64()) return std::to_string(id.get_int64());
  if (id.is_uint64()) return std::to_string(id.get_uint64());
  if (id.is_double()) return to_json_text(id);
  throw bad_request("the job id must be a string or a number, got " + to_json_text(id));
}

}  // namespace

Job parse_job(std::string text, std::string started_at) {
  Json value = parse_json(text);
  auto* object = value.if_object();
  if (object == nullptr || !object->contains("data") || !object->contains("id")) {
    throw bad_request("the job is not an envelope with an id and data");
  }
  Job job;
  job.id_json = object->at("id");
  job.id = id_string(job.id_json);
  if (const auto* attempts = object->if_contains("attempts"); attempts != nullptr && attempts->is_number()) {
    job.attempts = static_cast<int>(attempts->to_number<double>()) + 1;
  }
  if (const auto* queued = object->if_contains("queuedAt"); queued != nullptr && queued->is_string()) {
    job.queued_at = std::string(queued->get_string());
  } else {
    job.queued_at = started_at;
  }
  job.started_at = std::move(started_at);
  job.text = std::move(text);
  job.envelope = std::move(value);
  return job;
}

JsonObject make_envelope(Json value, std::string_view id, std::string_view queued_at) {
  JsonObject envelope;
  if (auto* object = value.if_object(); object != nullptr && object->contains("data")) {
    envelope = std::move(*object);
  } else {
    envelope["data"] = std::move(value);
  }
  if (const auto* given = envelope.if_contains("id"); given == nullptr || given->is_null()) {
    envelope["id"] = std::string(id);
  } else {
    id_string(*given);  // throws BadRequest for ids that are not strings or numbers
  }
  if (!envelope.contains("queuedAt")) envelope["queuedAt"] = std::string(queued_at);
  return envelope;
}

std::chrono::milliseconds retry_delay(int attempts, std::chrono::milliseconds backoff,
                                      std::chrono::milliseconds backoff_max) {
  auto delay = backoff;
  for (int i = 1; i < attempts && delay < backoff_max; ++i) delay *= 2;
  return std::min(delay, backoff_max);
}

std::optional<std::int64_t> parse_iso8601_ms(std::string_view text) {
  if (text.size() < 20 || text.size() > 40) return std::nullopt;
  const std::string copy(text);
  std::tm utc{};
  int millis = 0;
  int consumed = 0;
  if (std::sscanf(copy.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ%n", &utc.tm_year, &utc.tm_mon, &utc.tm_mday,
                  &utc.tm_hour, &utc.tm_min, &utc.tm_sec, &millis, &consumed) != 7 ||
      consumed != static_cast<int>(copy.size())) {
    return std::nullopt;
  }
  utc.tm_year -= 1900;
  utc.tm_mon -= 1;
  return static_cast<std::int64_t>(timegm(&utc)) * 1000 + millis;
}

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string random_hex() {
  thread_local std::mt19937_64 generator{std::random_device{}()};
  char buffer[17];
  std::snprintf(buffer, sizeof buffer, "%016llx", static_cast<unsigned long long>(generator()));
  return buffer;
}

}  // namespace plume::queue::detail
