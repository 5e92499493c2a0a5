#include "queue/queue_service.hpp"

#include "queue/queue_runtime.hpp"

#include <plume/core/error.hpp>

#include <algorithm>
#include <charconv>

namespace plume::queue::detail {

namespace {

constexpr std::int64_t kDefaultLimit = 10;
constexpr std::int64_t kMaxLimit = 100;

std::int64_t number_param(const JsonObject& query, std::string_view name, std::int64_t fallback) {
  const Json* value = query.if_contains(name);
  if (value == nullptr) return fallback;
  if (value->is_int64()) return value->get_int64();
  if (value->is_uint64()) return static_cast<std::int64_t>(value->get_uint64());
  if (value->is_string()) {
    const auto text = value->get_string();
    std::int64_t number = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), number);
    if (error == std::errc{} && end == text.data() + text.size()) return number;
  }
  throw bad_request("`" + std::string(name) + "` must be a number, got " + to_json_text(*value));
}

// A job as stored in a list, shown as a status record: envelopes by their members, bare payloads
// as data, text that is not JSON as raw.
JsonObject job_view(const std::string& text, std::string_view status) {
  JsonObject view{{"id", nullptr}, {"status", status}};
  try {
    Json value = parse_json(text);
    if (auto* object = value.if_object(); object != nullptr && object->contains("data")) {
      if (const auto* id = object->if_contains("id")) view["id"] = *id;
      const auto* attempts = object->if_contains("attempts");
      view["attempts"] = attempts != nullptr && attempts->is_number() ? attempts->to_number<double>() : 0.0;
      if (const auto* queued = object->if_contains("queuedAt")) view["queuedAt"] = *queued;
      if (const auto* error = object->if_contains("lastError")) view["error"] = *error;
      view["data"] = object->at("data");
    } else {
      view["attempts"] = 0;
      view["data"] = std::move(value);
    }
  } catch (const Error&) {
    view["raw"] = text;
  }
  return view;
}

std::string iso8601_from_ms(std::int64_t ms) {
  std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900,
                utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                static_cast<int>(ms % 1000));
  return buffer;
}

}  // namespace

Task<Json> QueueService::create(Json data, Params& params) {
  if (data.is_array()) throw bad_request("queues take one job per create, not an array");
  auto op = runtime_->enqueue(std::move(data));
  Json record = co_await std::move(op);
  co_return record;
}

Task<Json> QueueService::get(const Id& id, Params& params) {
  const auto& keys = runtime_->keys();
  auto op = runtime_->control().command({"GET", keys.job(id.to_string())});
  redis::Reply reply = co_await std::move(op);
  if (reply.is_nil()) {
    throw not_found("No job '" + id.to_string() + "' in queue '" + keys.name +
                    "' (status records are kept for " +
                    std::to_string(runtime_->options().status_ttl.count()) + " s after their last change)");
  }
  co_return parse_json(reply.str);
}

Task<Json> QueueService::find(Params& params) {
  static const JsonObject empty;
  const JsonObject& query = params.query.is_object() ? params.query.get_object() : empty;
  const std::int64_t limit =
      std::clamp<std::int64_t>(number_param(query, "$limit", kDefaultLimit), 0, kMaxLimit);
  const std::int64_t skip = std::max<std::int64_t>(number_param(query, "$skip", 0), 0);
  std::string status;
  if (const Json* value = query.if_contains("status")) {
    if (!value->is_string()) throw bad_request("`status` must be a string, got " + to_json_text(*value));
    status = value->get_string();
  }
  const auto& keys = runtime_->keys();
  auto& client = runtime_->control();
  JsonArray data;
  std::int64_t total = 0;

  if (status.empty() || status == "done" || status == "failed") {
    // Outcomes, newest first: N.done holds at most doneLength of them.
    auto op = client.command({"LRANGE", keys.done, "0", "-1"});
    redis::Reply reply = co_await std::move(op);
    for (const auto& element : reply.elements) {
      Json record;
      try {
        record = parse_json(element.str);
      } catch (const Error&) {
        continue;
      }
      const auto* object = record.if_object();
      if (object == nullptr) continue;
      const auto* record_status = object->if_contains("status");
      if (!status.empty() && (record_status == nullptr || *record_status != status.c_str())) continue;
      if (total >= skip && total < skip + limit) data.push_back(std::move(record));
      ++total;
    }
  } else if (status == "queued") {
    // The next job to run first: it is at the right end of the list.
    auto op = client.pipeline(
        {{"LLEN", keys.queue},
         {"LRANGE", keys.queue, std::to_string(-(skip + limit)), std::to_string(-(skip + 1))}});
    std::vector<redis::Reply> replies = co_await std::move(op);
    total = replies[0].integer;
    if (limit > 0) {
      for (auto it = replies[1].elements.rbegin(); it != replies[1].elements.rend(); ++it) {
        data.push_back(job_view(it->str, "queued"));
      }
    }
  } else if (status == "retrying") {
    auto op = client.pipeline(
        {{"ZCARD", keys.delayed},
         {"ZRANGE", keys.delayed, std::to_string(skip), std::to_string(skip + limit - 1), "WITHSCORES"}});
    std::vector<redis::Reply> replies = co_await std::move(op);
    total = replies[0].integer;
    const auto& elements = replies[1].elements;
    for (std::size_t i = 0; limit > 0 && i + 1 < elements.size(); i += 2) {
      JsonObject view = job_view(elements[i].str, "retrying");
      std::int64_t due = 0;
      std::from_chars(elements[i + 1].str.data(), elements[i + 1].str.data() + elements[i + 1].str.size(),
                      due);
      view["retryAt"] = iso8601_from_ms(due);
      data.push_back(std::move(view));
    }
  } else if (status == "dead") {
    auto op = client.pipeline(
        {{"LLEN", keys.dead}, {"LRANGE", keys.dead, std::to_string(skip), std::to_string(skip + limit - 1)}});
    std::vector<redis::Reply> replies = co_await std::move(op);
    total = replies[0].integer;
    for (const auto& element : limit > 0 ? replies[1].elements : std::vector<redis::Reply>{}) {
      try {
        data.push_back(parse_json(element.str));
      } catch (const Error&) {
        data.push_back(JsonObject{{"status", "dead"}, {"raw", element.str}});
      }
    }
  } else if (status == "active") {
    auto members_op = client.command({"SMEMBERS", keys.workers});
    redis::Reply members = co_await std::move(members_op);
    if (!members.elements.empty()) {
      std::vector<std::vector<std::string>> commands;
      for (const auto& worker : members.elements)
        commands.push_back({"LRANGE", keys.processing(worker.str), "0", "-1"});
      auto op = client.pipeline(std::move(commands));
      std::vector<redis::Reply> lists = co_await std::move(op);
      for (std::size_t w = 0; w < lists.size(); ++w) {
        for (const auto& element : lists[w].elements) {
          if (total >= skip && total < skip + limit) {
            JsonObject view = job_view(element.str, "active");
            view["attempts"] = view["attempts"].to_number<double>() + 1;
            view["worker"] = members.elements[w].str;
            data.push_back(std::move(view));
          }
          ++total;
        }
      }
    }
  } else {
    throw bad_request("`status` must be one of queued, active, retrying, done, failed, dead; got '" + status +
                      "'");
  }
  co_return JsonObject{{"total", total}, {"limit", limit}, {"skip", skip}, {"data", std::move(data)}};
}

}  // namespace plume::queue::detail
