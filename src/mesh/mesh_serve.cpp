// The owner's side of the protocol: calls from peers run through this node's own App::run with
// the forwarded provider (so external-only hooks and `auth: jwt` apply: the forwarded
// authentication is verified again here), and events of local services go to the peers that
// subscribed to them. The consumer's side re-emits those events on its proxy.
#include "mesh/mesh_core.hpp"

#include "mesh/metrics_names.hpp"
#include "mesh/nodes_service.hpp"
#include "mesh/remote_service.hpp"

#include <plume/core/metrics.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include <spdlog/spdlog.h>

namespace plume::mesh {

namespace asio = boost::asio;

namespace {

Task<void> run_forwarded_call(std::shared_ptr<MeshCore> core, std::shared_ptr<Link> link, CallFrame call,
                              std::string node_id, std::vector<std::string> publish) {
  App& app = core->app();
  std::string reply;
  try {
    auto entry = app.find_shared(call.path);
    if (!entry || is_proxy(*entry) || call.path == kNodesPath || !matches_any(publish, call.path)) {
      throw not_found("Can not find service '" + call.path + "' on node " + node_id);
    }
    if (!entry->exposes(call.method)) {
      throw method_not_allowed("Method `" + call.method + "` is not supported by this endpoint.");
    }
    // Feathers-distributed's marker, and the deadline further remote calls inherit.
    call.params.extra["fromRemote"] = true;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(call.timeout_ms);
    call.params.extra["meshDeadline"] = static_cast<std::int64_t>(deadline.time_since_epoch().count());
    HookContext context = app.context_for(*entry, call.method, std::move(call.params));
    context.id = std::move(call.record_id);
    context.data = std::move(call.data);
    auto op = app.run(context);
    co_await std::move(op);
    static const Json kNull = nullptr;
    // What the caller's transport would send: dispatch ("safe" data) for external calls.
    const Json& result =
        context.params.is_external() ? context.reply() : (context.result ? *context.result : kNull);
    reply = encode_reply(call.id, result);
  } catch (...) {
    reply = encode_error_reply(call.id, Error::from_exception(std::current_exception()));
  }
  link->send(std::move(reply));
}

}  // namespace

void MeshCore::serve_call(const std::shared_ptr<Link>& link, const Json& frame) {
  CallFrame call;
  try {
    call = decode_call(frame);
  } catch (const Error& error) {
    // Without an id nobody waits for the answer; with one, the caller learns what was wrong.
    const Json* id = frame.as_object().if_contains("id");
    if (id != nullptr && id->is_number())
      link->send(encode_error_reply(id->to_number<std::uint64_t>(), error));
    return;
  }
  asio::co_spawn(link->executor(),
                 run_forwarded_call(shared_from_this(), link, std::move(call), node_id_, options_.publish),
                 asio::detached);
}

void MeshCore::on_local_event(const ServiceEvent& event) {
  if (stopping_) return;
  // Replica sync re-emits other replicas' events marked synced: each replica forwards only its own.
  if (event.context != nullptr) {
    if (const Json* synced = event.context->params.extra.if_contains("synced");
        synced != nullptr && synced->is_bool() && synced->get_bool()) {
      return;
    }
  }
  std::vector<std::shared_ptr<Link>> links;
  {
    std::lock_guard lock(mutex_);
    auto it = subscribers_.find(event.path);
    if (it == subscribers_.end()) return;
    links = it->second;
  }
  // Proxies re-emit what arrived from their owner: never send that back out.
  if (auto entry = app_.find_shared(event.path); !entry || is_proxy(*entry)) return;
  const std::string frame = encode_event(event.path, event.event, event.data, event.context);
  for (const auto& link : links) link->send(frame);
  MetricsRegistry::global().increment(kEventsMetric, {{"direction", "out"}},
                                      static_cast<double>(links.size()));
}

void MeshCore::on_event_frame(const Json& frame) {
  EventFrame event = decode_event(frame);
  auto entry = app_.find_shared(event.path);
  if (!entry || !is_proxy(*entry)) {
    spdlog::debug("event=mesh_event_dropped path={} event={} reason=no_proxy", event.path, event.event);
    return;
  }
  // The context the owner's listeners saw, rebuilt from the envelope, so that channels and
  // publishers here decide as they would for a local event.
  HookContext context = app_.context_for(*entry, event.method, std::move(event.params));
  context.type = HookType::After;
  context.id = std::move(event.id);
  context.event = event.event;
  context.result = event.data;
  // Marked as coming from another node: replica sync must not pass it on to other replicas,
  // which receive it from the mesh themselves.
  context.params.extra["remote"] = true;
  app_.emit_event(event.path, event.event, event.data, &context);
  MetricsRegistry::global().increment(kEventsMetric, {{"direction", "in"}});
}

}  // namespace plume::mesh
