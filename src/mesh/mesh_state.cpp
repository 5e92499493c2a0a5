// Services as state: what this node publishes, what peers offer, the subscriptions that must be
// acknowledged before a proxy exists, and the proxies, removed only with their last provider.
#include "mesh/mesh_core.hpp"

#include "mesh/nodes_service.hpp"
#include "mesh/remote_service.hpp"

#include <plume/auth/authentication.hpp>

#include <spdlog/spdlog.h>

#include <algorithm>

namespace plume::mesh {

namespace {

bool is_standard_event(std::string_view event) {
  return event == "created" || event == "updated" || event == "patched" || event == "removed";
}

// Feathers-distributed sets hook.event = null on its proxies: the event reaches this node from
// the owner (as an event frame), never from the proxy's own call, so each client sees it once.
Task<void> suppress_proxy_event(HookContext& context) {
  context.event.reset();
  co_return;
}

}  // namespace

bool MeshCore::is_local(std::string_view path) const {
  auto entry = app_.find_shared(path);
  return entry != nullptr && !is_proxy(*entry);
}

std::vector<ServiceDescriptor> MeshCore::published_services() const {
  std::vector<ServiceDescriptor> out;
  auto snapshot = app_.services();
  if (!snapshot) return out;
  for (const auto& entry : *snapshot) {
    if (is_proxy(*entry) || entry->path() == kNodesPath) continue;
    if (!matches_any(options_.publish, entry->path())) continue;
    out.push_back(
        ServiceDescriptor{.path = entry->path(), .methods = entry->methods(), .events = entry->events()});
  }
  return out;
}

void MeshCore::broadcast_services() {
  const std::string frame = encode_services(last_published_);
  std::vector<std::shared_ptr<Link>> links;
  {
    std::lock_guard lock(mutex_);
    for (auto& [instance, peer] : peers_) {
      if (peer.link) links.push_back(peer.link);
    }
  }
  spdlog::info("event=services_changed node={} services={} peers={}", node_id_, last_published_.size(),
               links.size());
  for (const auto& link : links) link->send(frame);
}

void MeshCore::on_services(const std::shared_ptr<Link>& link, const Json& frame) {
  std::vector<ServiceDescriptor> services = decode_services(frame);
  std::vector<std::string> consumed;
  {
    std::lock_guard lock(mutex_);
    auto it = peers_.find(link->peer().instance);
    if (it == peers_.end() || it->second.link != link) return;
    Peer& peer = it->second;
    std::map<std::string, ServiceDescriptor, std::less<>> offered;
    for (auto& service : services) {
      std::string path = service.path;
      offered.emplace(std::move(path), std::move(service));
    }
    std::vector<std::string> gone;
    for (const auto& [path, descriptor] : peer.services) {
      if (!offered.contains(path)) gone.push_back(path);
    }
    for (const auto& path : gone) withdraw_locked(peer, path);
    peer.services = std::move(offered);
    peer.consumed.clear();
    for (const auto& [path, descriptor] : peer.services) {
      // Prefer local: a path served here never gets a proxy.
      if (path == kNodesPath || !matches_any(options_.consume, path) || is_local(path)) continue;
      peer.consumed.insert(path);
      consumed.push_back(path);
    }
  }
  link->send(encode_paths("subscribe", consumed));
}

void MeshCore::on_subscribe(const std::shared_ptr<Link>& link, const Json& frame) {
  std::vector<std::string> accepted;
  {
    std::lock_guard lock(mutex_);
    // Only the peer's current link carries events: a duplicate about to close never does.
    auto peer = peers_.find(link->peer().instance);
    if (peer == peers_.end() || peer->second.link != link) return;
    unsubscribe_link_locked(link);
    for (auto& path : decode_paths(frame)) {
      if (path == kNodesPath || !matches_any(options_.publish, path) || !is_local(path)) continue;
      subscribers_[path].push_back(link);
      accepted.push_back(std::move(path));
    }
  }
  // Frames leave in order: every event of these paths sent from now on follows the ack.
  link->send(encode_paths("subscribed", accepted));
}

void MeshCore::on_subscribed(const std::shared_ptr<Link>& link, const Json& frame) {
  std::lock_guard lock(mutex_);
  auto it = peers_.find(link->peer().instance);
  if (it == peers_.end() || it->second.link != link) return;
  Peer& peer = it->second;
  for (auto& path : decode_paths(frame)) {
    if (!peer.consumed.contains(path)) continue;
    auto offered = peer.services.find(path);
    if (offered == peer.services.end()) continue;
    peer.ready.insert(path);
    Route& route = routes_[path];
    if (route.descriptor.path.empty()) route.descriptor = offered->second;
    if (std::find(route.providers.begin(), route.providers.end(), peer.instance) == route.providers.end()) {
      route.providers.push_back(peer.instance);
      spdlog::info("event=service_offered path={} node={} providers={}", path, peer.node,
                   route.providers.size());
    }
    if (!route.registered) register_proxy_locked(route, path);
  }
}

void MeshCore::register_proxy_locked(Route& route, const std::string& path) {
  if (is_local(path)) return;
  ServiceOptions options;
  options.methods = route.descriptor.methods;
  for (const auto& event : route.descriptor.events) {
    if (!is_standard_event(event)) options.events.push_back(event);
  }
  const bool gateway_auth = options_.remote_auth == "jwt";
  try {
    app_.use(path, std::make_unique<RemoteService>(weak_from_this(), path, route.descriptor.methods), options,
             [gateway_auth](ServiceEntry& entry) {
               // Hooks go on before anyone can call: the first call is already guarded.
               Hooks hooks;
               if (gateway_auth) hooks.before["all"].push_back(auth::authenticate());
               hooks.after["all"].push_back(suppress_proxy_event);
               entry.hooks(hooks);
             });
    route.registered = true;
    spdlog::info("event=proxy_registered path={} methods={}", path, options.methods.size());
  } catch (const std::exception& e) {
    spdlog::warn("event=proxy_failed path={} error=\"{}\"", path, e.what());
  }
}

void MeshCore::withdraw_locked(Peer& peer, const std::string& path) {
  peer.ready.erase(path);
  peer.consumed.erase(path);
  peer.services.erase(path);
  auto it = routes_.find(path);
  if (it == routes_.end()) return;
  Route& route = it->second;
  std::erase(route.providers, peer.instance);
  if (!route.providers.empty()) return;
  // The last node offering the path went: the proxy goes, scoped to this path and provider set.
  const bool registered = route.registered;
  routes_.erase(it);
  if (registered) {
    if (auto entry = app_.find_shared(path); entry && is_proxy(*entry)) app_.unuse(path);
    spdlog::info("event=proxy_removed path={} last_node={}", path, peer.node);
  }
}

void MeshCore::withdraw_all_locked(Peer& peer) {
  std::vector<std::string> paths;
  for (const auto& [path, descriptor] : peer.services) paths.push_back(path);
  for (const auto& [path, route] : routes_) {
    if (std::find(route.providers.begin(), route.providers.end(), peer.instance) != route.providers.end()) {
      paths.push_back(path);
    }
  }
  for (const auto& path : paths) withdraw_locked(peer, path);
}

void MeshCore::drop_peer_locked(const std::string& instance, std::string_view reason) {
  auto it = peers_.find(instance);
  if (it == peers_.end()) return;
  Peer& peer = it->second;
  std::vector<std::shared_ptr<PendingCall>> failed;
  if (peer.link) {
    fail_pending_locked(peer.link, failed);
    unsubscribe_link_locked(peer.link);
  }
  withdraw_all_locked(peer);
  spdlog::info("event=peer_dropped peer={} instance={} reason={}", peer.node, instance, reason);
  peers_.erase(it);
  for (const auto& call : failed) {
    complete(call, CallOutcome::lost(std::string(reason)));
  }
}

void MeshCore::unsubscribe_link_locked(const std::shared_ptr<Link>& link) {
  for (auto it = subscribers_.begin(); it != subscribers_.end();) {
    std::erase(it->second, link);
    it = it->second.empty() ? subscribers_.erase(it) : std::next(it);
  }
}

}  // namespace plume::mesh
