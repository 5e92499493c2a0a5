// Remote calls: choose a node (balancing, breakers), bound what waits on it, send, and wait for
// the reply, the deadline or the node's loss, whichever comes first. find and get are retried on
// another node after a loss; every other method fails fast, because it may have run.
#include "mesh/mesh_core.hpp"

#include "mesh/metrics_names.hpp"

#include <plume/core/metrics.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <spdlog/spdlog.h>

namespace plume::mesh {

namespace asio = boost::asio;
using std::chrono::milliseconds;

namespace {

SteadyTime now() { return std::chrono::steady_clock::now(); }

// Where a call forwarded by a peer must end, as MeshCore::serve_call records it in params.extra,
// so a call that leads to further remote calls passes on what is left of its deadline.
constexpr std::string_view kDeadlineKey = "meshDeadline";

void count_call(const std::string& path, const std::string& method, const char* outcome) {
  MetricsRegistry::global().increment(kCallsMetric,
                                      {{"path", path}, {"method", method}, {"outcome", outcome}});
}

void deliver(const asio::any_io_executor& executor, std::unique_ptr<CallHandler> handler,
             CallOutcome outcome) {
  // The caller resumes on its own executor, whichever thread completed the call.
  asio::post(executor, [handler = std::move(handler), outcome = std::move(outcome)]() mutable {
    handler->invoke(std::move(outcome));
  });
}

}  // namespace

void MeshCore::complete(const std::shared_ptr<PendingCall>& call, CallOutcome outcome) {
  std::unique_ptr<CallHandler> handler;
  {
    std::lock_guard lock(call->mutex);
    if (call->done) return;
    call->done = true;
    if (!call->handler) {
      call->early = std::move(outcome);
      return;
    }
    handler = std::move(call->handler);
  }
  deliver(call->executor, std::move(handler), std::move(outcome));
}

Task<CallOutcome> MeshCore::wait_outcome(std::shared_ptr<PendingCall> call, std::shared_ptr<Link> link,
                                         std::string frame) {
  call->executor = co_await asio::this_coro::executor;
  auto initiate = [call, link = std::move(link), frame = std::move(frame)](auto handler) mutable {
    auto erased = std::make_unique<CallHandlerOf<decltype(handler)>>(std::move(handler));
    {
      std::lock_guard lock(call->mutex);
      if (call->early) {
        CallOutcome outcome = std::move(*call->early);
        call->early.reset();
        deliver(call->executor, std::move(erased), std::move(outcome));
        return;
      }
      call->handler = std::move(erased);
    }
    // Sent only once the caller waits: a reply can never find nobody to resume.
    if (!link->send(std::move(frame))) {
      if (auto core = call->core.lock()) {
        core->take_and_fail(call->id, "link closed before the call was sent");
      }
    }
  };
  auto op = asio::async_initiate<const asio::use_awaitable_t<>&, void(CallOutcome)>(std::move(initiate),
                                                                                    asio::use_awaitable);
  co_return co_await std::move(op);
}

void MeshCore::take_and_fail(std::uint64_t id, const std::string& reason) {
  std::shared_ptr<PendingCall> call;
  {
    std::lock_guard lock(mutex_);
    call = take_pending_locked(id);
  }
  if (call) complete(call, CallOutcome::lost(reason));
}

std::shared_ptr<PendingCall> MeshCore::take_pending_locked(std::uint64_t id) {
  auto it = pending_.find(id);
  if (it == pending_.end()) return nullptr;
  std::shared_ptr<PendingCall> call = std::move(it->second);
  pending_.erase(it);
  deadlines_.erase(call->deadline_entry);
  if (auto peer = peers_.find(call->instance); peer != peers_.end() && peer->second.pending > 0) {
    --peer->second.pending;
  }
  return call;
}

void MeshCore::fail_pending_locked(const std::shared_ptr<Link>& link,
                                   std::vector<std::shared_ptr<PendingCall>>& failed) {
  std::vector<std::uint64_t> ids;
  for (const auto& [id, call] : pending_) {
    if (call->link == link.get()) ids.push_back(id);
  }
  for (const std::uint64_t id : ids) failed.push_back(take_pending_locked(id));
}

void MeshCore::on_reply(const Json& frame) {
  const auto& object = frame.as_object();
  const Json* id_value = object.if_contains("id");
  if (id_value == nullptr || !id_value->is_number()) return;
  const std::uint64_t id = id_value->to_number<std::uint64_t>();
  std::shared_ptr<PendingCall> call;
  {
    std::lock_guard lock(mutex_);
    call = take_pending_locked(id);
  }
  // A reply after the deadline finds nobody: the caller already has its 408.
  if (!call) return;
  CallOutcome outcome;
  if (const Json* error = object.if_contains("error")) {
    outcome.kind = CallOutcome::Kind::Error;
    outcome.error = Error::from_json(*error);
  } else {
    outcome.kind = CallOutcome::Kind::Result;
    if (const Json* result = object.if_contains("result")) outcome.result = *result;
  }
  complete(call, std::move(outcome));
}

Task<void> MeshCore::sweep_deadlines() {
  while (!stopping_) {
    std::vector<std::shared_ptr<PendingCall>> expired;
    SteadyTime next;
    {
      std::lock_guard lock(mutex_);
      const SteadyTime t = now();
      while (!deadlines_.empty() && deadlines_.begin()->first <= t) {
        expired.push_back(take_pending_locked(deadlines_.begin()->second));
      }
      next = deadlines_.empty() ? t + std::chrono::seconds(1) : deadlines_.begin()->first;
      sweep_at_ = next;
    }
    for (const auto& call : expired) complete(call, CallOutcome::timed_out());
    sweep_timer_.expires_at(next);
    auto op = sweep_timer_.async_wait(asio::as_tuple(asio::use_awaitable));
    co_await std::move(op);
  }
}

void MeshCore::record_outcome(const std::string& instance, const std::string& path, bool failed) {
  const SteadyTime t = now();
  std::string tripped_node;
  {
    std::lock_guard lock(mutex_);
    auto peer = peers_.find(instance);
    if (peer == peers_.end()) return;
    auto& breaker = peer->second.breakers.try_emplace(path, options_.breaker).first->second;
    if (!failed) {
      breaker.record_success(t);
    } else if (breaker.record_failure(t)) {
      tripped_node = peer->second.node;
    }
  }
  if (!tripped_node.empty()) {
    MetricsRegistry::global().increment(kBreakerTripsMetric, {{"node", tripped_node}, {"path", path}});
    spdlog::warn("event=breaker_open node={} path={} retry_after_ms={}", tripped_node, path,
                 options_.breaker.half_open_after.count());
  }
}

Task<Json> MeshCore::call(std::string path, std::string method, bool has_record_id, NullableId id, Json data,
                          Params& params) {
  const bool idempotent = method == "find" || method == "get";
  const SteadyTime start = now();
  SteadyTime deadline = start + options_.call_timeout;
  if (const Json* inherited = params.extra.if_contains(kDeadlineKey); inherited && inherited->is_int64()) {
    const SteadyTime upstream{std::chrono::steady_clock::duration(inherited->get_int64())};
    deadline = std::min(deadline, upstream);
  }
  const auto budget = std::chrono::duration_cast<milliseconds>(deadline - start);
  std::vector<std::string> tried;
  std::size_t retries = 0;

  for (;;) {
    std::shared_ptr<PendingCall> pending;
    std::shared_ptr<Link> link;
    bool kick_sweeper = false;
    {
      std::lock_guard lock(mutex_);
      if (stopping_) {
        count_call(path, method, "unavailable");
        throw unavailable("The mesh of node " + node_id_ + " is stopping: " + path + "." + method +
                          " was not sent");
      }
      auto route = routes_.find(path);
      std::vector<Peer*> candidates;
      std::vector<std::size_t> load;
      bool breaker_open = false;
      const SteadyTime t = now();
      if (route != routes_.end()) {
        for (const auto& instance : route->second.providers) {
          if (std::find(tried.begin(), tried.end(), instance) != tried.end()) continue;
          auto peer = peers_.find(instance);
          if (peer == peers_.end() || !peer->second.link || !peer->second.ready.contains(path)) continue;
          auto& breaker = peer->second.breakers.try_emplace(path, options_.breaker).first->second;
          if (!breaker.available(t)) {
            breaker_open = true;
            continue;
          }
          candidates.push_back(&peer->second);
          load.push_back(peer->second.pending);
        }
      }
      if (candidates.empty()) {
        count_call(path, method, "unavailable");
        if (breaker_open) {
          throw unavailable("Every node offering " + path + " is failing (circuit open); try again in " +
                            std::to_string(options_.breaker.half_open_after.count() / 1000) + " s");
        }
        throw unavailable("No node offers " + path);
      }
      std::uint64_t& counter = route->second.counter;
      Peer& peer = *candidates[*choose_candidate(options_.balance, load, counter)];
      if (peer.pending >= options_.max_pending) {
        count_call(path, method, "unavailable");
        throw unavailable("Too many calls waiting for " + peer.node + " (" + std::to_string(peer.pending) +
                          "); try again later");
      }
      peer.breakers.at(path).allow(t);
      pending = std::make_shared<PendingCall>();
      pending->id = next_call_id_++;
      pending->core = weak_from_this();
      pending->instance = peer.instance;
      pending->node = peer.node;
      pending->path = path;
      pending->method = method;
      pending->link = peer.link.get();
      pending->deadline = deadline;
      pending->deadline_entry = deadlines_.emplace(deadline, pending->id);
      pending_.emplace(pending->id, pending);
      ++peer.pending;
      link = peer.link;
      kick_sweeper = deadline < sweep_at_;
      if (kick_sweeper) sweep_at_ = deadline;
    }
    if (kick_sweeper) asio::post(ctx_, [this] { sweep_timer_.cancel(); });

    CallFrame frame{.id = pending->id,
                    .path = path,
                    .method = method,
                    .has_record_id = has_record_id,
                    .record_id = id,
                    .data = data,
                    .params = {},
                    .timeout_ms = 0};
    frame.timeout_ms =
        std::max<std::int64_t>(1, std::chrono::duration_cast<milliseconds>(deadline - now()).count());
    std::string text = encode_call(frame, params);
    auto op = wait_outcome(pending, std::move(link), std::move(text));
    CallOutcome outcome = co_await std::move(op);

    switch (outcome.kind) {
      case CallOutcome::Kind::Result:
        record_outcome(pending->instance, path, false);
        count_call(path, method, "ok");
        co_return std::move(outcome.result);
      case CallOutcome::Kind::Error:
        // The owner's own errors (404, 422...) say nothing about its health; 5xx do.
        record_outcome(pending->instance, path, outcome.error->status() >= 500);
        count_call(path, method, outcome.error->status() >= 500 ? "error" : "rejected");
        throw *outcome.error;
      case CallOutcome::Kind::Timeout:
        record_outcome(pending->instance, path, true);
        count_call(path, method, "timeout");
        throw timeout("Timeout of " + std::to_string(budget.count()) + " ms exceeded calling " + path + "." +
                      method + " on " + pending->node);
      case CallOutcome::Kind::NodeLost:
        record_outcome(pending->instance, path, true);
        if (idempotent && retries < options_.retries && now() < deadline) {
          ++retries;
          tried.push_back(pending->instance);
          MetricsRegistry::global().increment(kRetriesMetric, {{"path", path}, {"method", method}});
          spdlog::debug("event=call_retry path={} method={} failed_node={} reason=\"{}\"", path, method,
                        pending->node, outcome.reason);
          continue;
        }
        count_call(path, method, "node_lost");
        throw unavailable("Node " + pending->node + " was lost during " + path + "." + method + " (" +
                          outcome.reason + ")" +
                          (idempotent ? "" : "; the call may have run there, check before repeating it"));
    }
  }
}

}  // namespace plume::mesh
