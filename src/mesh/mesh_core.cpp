// Peers and links: discovery events, dialing with backoff, one link per peer instance, and the
// periodic upkeep (local service changes, peers that stayed away).
#include "mesh/mesh_core.hpp"

#include "mesh/link_tls.hpp"
#include "mesh/metrics_names.hpp"
#include "mesh/nodes_service.hpp"
#include "mesh/remote_service.hpp"

#include <plume/core/metrics.hpp>
#include <plume/transport/server.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <spdlog/spdlog.h>

namespace plume::mesh {

namespace asio = boost::asio;
using std::chrono::milliseconds;

namespace {

// How often the upkeep runs: dial deadlines and reconnect backoff are checked at this grain.
constexpr milliseconds kTick{100};

SteadyTime now() { return std::chrono::steady_clock::now(); }

milliseconds next_backoff(milliseconds current, const MeshOptions& options) {
  if (current.count() == 0) return options.reconnect_min;
  return std::min(current * 2, options.reconnect_max);
}

}  // namespace

bool is_proxy(const ServiceEntry& entry) noexcept {
  return dynamic_cast<const RemoteService*>(&const_cast<ServiceEntry&>(entry).service()) != nullptr;
}

const char* Peer::state() const noexcept {
  if (link && link->open()) return "up";
  if (dialing) return "connecting";
  return down_since == SteadyTime{} ? "announced" : "down";
}

MeshCore::MeshCore(App& app, MeshOptions options) : app_(app), options_(std::move(options)) {
  instance_ = random_hex();
  if (!options_.node_id.empty()) {
    node_id_ = options_.node_id;
  } else if (!options_.advertise.empty()) {
    node_id_ = options_.name + "-" + options_.advertise;
  } else {
    // The listener states its node id before the server has bound its port: without an
    // advertised address the id takes a piece of the instance id, unique and stable for the run.
    node_id_ = options_.name + "-" + instance_.substr(0, 8);
  }
  describe_mesh_metrics();
}

MeshCore::~MeshCore() {
  stop();
  if (thread_.joinable()) {
    // The last reference may go on the mesh thread itself (a dial finishing late).
    if (thread_.get_id() == std::this_thread::get_id()) {
      thread_.detach();
    } else {
      thread_.join();
    }
  }
}

LinkSettings MeshCore::link_settings() const {
  return LinkSettings{.secret = options_.secret,
                      .self = PeerIdentity{node_id_, instance_, address_},
                      .tls = tls_,
                      .heartbeat_interval = options_.heartbeat_interval,
                      .heartbeat_timeout = options_.heartbeat_timeout};
}

LinkHandlers MeshCore::handlers() {
  std::weak_ptr<MeshCore> weak = weak_from_this();
  LinkHandlers handlers;
  handlers.established = [weak](const std::shared_ptr<Link>& link) {
    if (auto self = weak.lock()) {
      self->on_established(link);
    } else {
      asio::post(link->executor(), [link] { link->close("mesh stopped"); });
    }
  };
  handlers.frame = [weak](const std::shared_ptr<Link>& link, std::string_view frame) {
    if (auto self = weak.lock()) self->on_frame(link, frame);
  };
  handlers.closed = [weak](const std::shared_ptr<Link>& link, const std::string& reason) {
    if (auto self = weak.lock()) self->on_closed(link, reason);
  };
  return handlers;
}

void MeshCore::attach(transport::Server& server) {
  if (options_.secret.empty()) {
    throw std::invalid_argument("mesh.secret is empty: every node of a mesh needs the same cluster secret");
  }
  tls_ = make_link_tls(options_.tls, options_.secret);
  if (!tls_) {
    spdlog::warn(
        "event=mesh_tls_off hint=\"mesh links are plaintext: anyone on the path reads and injects frames; "
        "remove "
        "mesh.tls: off outside a trusted network\"");
  }
  listen_for_links(server, link_settings(), handlers());
  std::weak_ptr<MeshCore> weak = weak_from_this();
  app_.use(kNodesPath, std::make_unique<NodesService>(weak),
           ServiceOptions{.methods = {"find"}, .events = {}});
  app_.on_event([weak](const ServiceEvent& event) {
    if (auto self = weak.lock()) self->on_local_event(event);
  });
}

void MeshCore::start(transport::Server& server) {
  if (started_.exchange(true)) return;
  if (!options_.advertise.empty()) {
    address_ = options_.advertise;
  } else {
    if (options_.bind_host == "0.0.0.0" || options_.bind_host == "::") {
      spdlog::warn("event=mesh_advertise host={} hint=\"set mesh.advertise to an address peers can dial\"",
                   options_.bind_host);
    }
    address_ = options_.bind_host + ":" + std::to_string(server.port());
  }
  discovery_ = make_discovery(ctx_.get_executor(), options_);
  started_at_ = now();
  work_.emplace(ctx_.get_executor());
  thread_ = std::thread([this] { ctx_.run(); });

  std::weak_ptr<MeshCore> weak = weak_from_this();
  DiscoveryEvents events;
  events.seen = [weak](const Announcement& announcement) {
    if (auto self = weak.lock()) self->on_seen(announcement);
  };
  events.gone = [weak](const std::string& instance) {
    if (auto self = weak.lock()) self->on_gone(instance);
  };
  Announcement self{.node = node_id_, .instance = instance_, .address = address_};
  asio::post(ctx_, [this, self, events = std::move(events)]() mutable {
    discovery_->start(std::move(self), std::move(events));
  });
  asio::co_spawn(ctx_, maintain(), asio::detached);
  asio::co_spawn(ctx_, sweep_deadlines(), asio::detached);
  spdlog::info("event=mesh_started node={} instance={} address={} discovery={}", node_id_, instance_,
               address_, options_.discovery);
}

void MeshCore::stop() {
  if (!started_ || stopping_.exchange(true)) return;
  if (discovery_) {
    // Discovery runs on the mesh thread: stop it there so that its goodbye goes out in order.
    std::promise<void> stopped;
    auto done = stopped.get_future();
    asio::post(ctx_, [this, &stopped] {
      discovery_->stop();
      stopped.set_value();
    });
    done.wait_for(std::chrono::seconds(2));
  }

  std::vector<std::shared_ptr<Link>> links;
  std::vector<std::shared_ptr<PendingCall>> failed;
  std::vector<std::string> proxies;
  {
    std::lock_guard lock(mutex_);
    for (auto& [instance, peer] : peers_) {
      if (peer.link) links.push_back(peer.link);
    }
    for (auto& [id, call] : pending_) failed.push_back(call);
    pending_.clear();
    deadlines_.clear();
    for (auto& [path, route] : routes_) {
      if (route.registered) proxies.push_back(path);
    }
    routes_.clear();
    peers_.clear();
    subscribers_.clear();
  }
  for (const auto& call : failed) {
    complete(call,
             CallOutcome::failed(unavailable("The mesh of node " + node_id_ + " is stopping; call " +
                                             call->path + "." + call->method + " again on another node")));
  }
  for (const auto& path : proxies) app_.unuse(path);
  app_.unuse(kNodesPath);
  for (const auto& link : links) link->close("node stopping");
  {
    // Peers learn at once that this node went (a closed link), instead of after their
    // heartbeat timeout; a peer slow to finish the closing handshake is not waited for long.
    std::unique_lock lock(mutex_);
    links_closed_.wait_for(lock, std::chrono::seconds(1), [this] { return live_links_.empty(); });
  }

  asio::post(ctx_, [this] {
    tick_timer_.cancel();
    sweep_timer_.cancel();
  });
  work_.reset();
  asio::post(ctx_, [this] { ctx_.stop(); });
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
  spdlog::info("event=mesh_stopped node={}", node_id_);
}

// --- links -------------------------------------------------------------------------------------

namespace {

// Closing a link from inside its `established` handler does not finish the closing handshake
// (the link's writer is not running yet): close it from its executor right after instead.
void close_soon(const std::shared_ptr<Link>& link, std::string reason) {
  asio::post(link->executor(), [link, reason = std::move(reason)] { link->close(reason); });
}

}  // namespace

void MeshCore::on_established(const std::shared_ptr<Link>& link) {
  const PeerIdentity& id = link->peer();
  if (stopping_) {
    close_soon(link, "node stopping");
    return;
  }
  if (id.instance == instance_) {
    close_soon(link, "a node cannot link to itself");
    return;
  }
  std::shared_ptr<Link> replaced;
  bool ignore_new = false;
  {
    std::lock_guard lock(mutex_);
    Peer& peer = peers_[id.instance];
    peer.node = id.node;
    peer.instance = id.instance;
    if (!id.address.empty()) peer.address = id.address;
    std::shared_ptr<Link> duplicate;  // the link that loses
    if (peer.link && peer.link != link && peer.link->open()) {
      // Two links between the same pair (both dialed, or a static peer dialed back): both sides
      // keep the one the lower instance id dialed, so they agree without talking about it.
      const bool canonical = link->dialed() == (instance_ < id.instance);
      duplicate = canonical ? peer.link : link;
      if (canonical) unsubscribe_link_locked(peer.link);
    }
    live_links_.insert(link.get());
    if (duplicate != link) {
      peer.link = link;
      peer.last_heard = now();
      peer.down_since = {};
      peer.backoff = milliseconds(0);
      peer.consumed.clear();
      peer.ready.clear();
      MetricsRegistry::global().increment(kLinkEventsMetric, {{"event", "up"}});
    }
    // Only the listening end closes a duplicate: closing handshakes started by both ends at once
    // are not needed, one close frame ends the link for both.
    if (duplicate && !duplicate->dialed()) replaced = duplicate;
    if (duplicate == link) {
      spdlog::debug("event=link_duplicate peer={} kept=existing", id.node);
      ignore_new = true;
    }
  }
  if (replaced) close_soon(replaced, "duplicate link");
  if (ignore_new) return;
  spdlog::info("event=link_up peer={} instance={} address={} dialed={}", id.node, id.instance, id.address,
               link->dialed());
  link->send(encode_services(published_services()));
}

void MeshCore::on_frame(const std::shared_ptr<Link>& link, std::string_view text) {
  Json frame;
  try {
    frame = parse_json(text);
  } catch (const std::exception& e) {
    spdlog::warn("event=mesh_frame_malformed peer={} error=\"{}\"", link->peer().node, e.what());
    return;
  }
  const std::string_view type = frame_type(frame);
  try {
    if (type == "reply") {
      on_reply(frame);
    } else if (type == "call") {
      serve_call(link, frame);
    } else if (type == "event") {
      on_event_frame(frame);
    } else if (type == "services") {
      on_services(link, frame);
    } else if (type == "subscribe") {
      on_subscribe(link, frame);
    } else if (type == "subscribed") {
      on_subscribed(link, frame);
    } else {
      spdlog::warn("event=mesh_frame_unknown peer={} type={}", link->peer().node, type);
    }
  } catch (const std::exception& e) {
    spdlog::warn("event=mesh_frame_failed peer={} type={} error=\"{}\"", link->peer().node, type, e.what());
  }
}

void MeshCore::on_closed(const std::shared_ptr<Link>& link, const std::string& reason) {
  std::vector<std::shared_ptr<PendingCall>> failed;
  bool current = false;
  {
    std::lock_guard lock(mutex_);
    if (live_links_.erase(link.get()) != 0 && live_links_.empty()) links_closed_.notify_all();
    fail_pending_locked(link, failed);
    unsubscribe_link_locked(link);
    if (auto it = peers_.find(link->peer().instance); it != peers_.end() && it->second.link == link) {
      current = true;
      Peer& peer = it->second;
      peer.link.reset();
      peer.consumed.clear();
      peer.ready.clear();
      peer.down_since = now();
      peer.last_heard = peer.down_since;
      peer.next_dial = peer.down_since + options_.reconnect_min;
    }
  }
  for (const auto& call : failed) {
    complete(call, CallOutcome::lost(reason));
  }
  if (current) {
    MetricsRegistry::global().increment(kLinkEventsMetric, {{"event", "down"}});
    if (!stopping_) {
      spdlog::warn("event=link_down peer={} instance={} reason=\"{}\" failed_calls={}", link->peer().node,
                   link->peer().instance, reason, failed.size());
    }
  }
}

void MeshCore::on_seen(const Announcement& announcement) {
  if (stopping_) return;
  const SteadyTime t = now();
  std::string dial_address;
  std::string dial_instance;
  {
    std::lock_guard lock(mutex_);
    if (announcement.instance.empty()) {
      // A static peer: who listens there is learnt from the link handshake.
      StaticTarget& target = static_targets_[announcement.address];
      if (!target.instance.empty()) {
        if (auto it = peers_.find(target.instance); it != peers_.end()) {
          it->second.last_heard = t;
          if (it->second.link) return;
        }
      }
      if (target.dialing || t < target.next_dial) return;
      target.dialing = true;
      dial_address = announcement.address;
    } else {
      if (announcement.instance == instance_) return;
      Peer& peer = peers_[announcement.instance];
      peer.node = announcement.node;
      peer.instance = announcement.instance;
      peer.address = announcement.address;
      peer.last_heard = t;
      // One link per pair: the lower instance id dials.
      if (peer.link || peer.dialing || instance_ > announcement.instance || t < peer.next_dial) return;
      peer.dialing = true;
      dial_address = announcement.address;
      dial_instance = announcement.instance;
    }
  }
  dial(std::move(dial_address), std::move(dial_instance));
}

void MeshCore::on_gone(const std::string& instance) {
  std::shared_ptr<Link> link;
  {
    std::lock_guard lock(mutex_);
    auto it = peers_.find(instance);
    if (it == peers_.end()) return;
    link = it->second.link;
    drop_peer_locked(instance, "gone");
  }
  if (link) link->close("the node left the mesh");
}

void MeshCore::dial(std::string address, std::string instance) {
  std::weak_ptr<MeshCore> weak = weak_from_this();
  auto attempt = [](std::weak_ptr<MeshCore> weak, asio::any_io_executor executor, std::string address,
                    std::string instance, LinkSettings settings, LinkHandlers handlers) -> Task<void> {
    bool ok = false;
    std::string found = instance;
    try {
      auto op = dial_link(executor, address, std::move(settings), std::move(handlers));
      std::shared_ptr<Link> link = co_await std::move(op);
      ok = true;
      found = link->peer().instance;
    } catch (const std::exception& e) {
      spdlog::debug("event=dial_failed address={} error=\"{}\"", address, e.what());
    }
    if (auto self = weak.lock()) self->dial_finished(address, instance, found, ok);
  };
  asio::co_spawn(ctx_,
                 attempt(weak, ctx_.get_executor(), std::move(address), std::move(instance), link_settings(),
                         handlers()),
                 asio::detached);
}

void MeshCore::dial_finished(const std::string& address, const std::string& instance,
                             const std::string& found, bool ok) {
  std::lock_guard lock(mutex_);
  const SteadyTime t = now();
  auto settle = [&](auto& target) {
    target.dialing = false;
    target.dial_attempted = true;
    target.backoff = ok ? milliseconds(0) : next_backoff(target.backoff, options_);
    target.next_dial = t + target.backoff;
  };
  if (instance.empty()) {
    if (auto it = static_targets_.find(address); it != static_targets_.end()) {
      settle(it->second);
      if (ok) it->second.instance = found;
    }
  } else if (auto it = peers_.find(instance); it != peers_.end()) {
    settle(it->second);
  }
}

Task<void> MeshCore::maintain() {
  while (!stopping_) {
    tick(now());
    tick_timer_.expires_after(kTick);
    auto op = tick_timer_.async_wait(asio::as_tuple(asio::use_awaitable));
    co_await std::move(op);
  }
}

void MeshCore::tick(SteadyTime t) {
  // Local services registered or removed since the last look: tell every peer.
  if (auto snapshot = app_.services(); snapshot != last_snapshot_) {
    last_snapshot_ = std::move(snapshot);
    std::vector<ServiceDescriptor> published = published_services();
    if (published != last_published_) {
      last_published_ = std::move(published);
      broadcast_services();
    }
  }
  std::size_t up = 0, down = 0;
  std::lock_guard lock(mutex_);
  for (auto it = peers_.begin(); it != peers_.end();) {
    Peer& peer = it->second;
    if (peer.link) {
      ++up;
    } else if (!peer.dialing) {
      ++down;
      // A link that stayed down for node_timeout is down for good: its offers go, and proxies
      // nobody else backs with them. A peer unheard as long is forgotten.
      if (peer.down_since != SteadyTime{} && t - peer.down_since > options_.node_timeout &&
          !peer.services.empty()) {
        withdraw_all_locked(peer);
      }
      if (t - peer.last_heard > options_.node_timeout) {
        const std::string instance = it->first;
        ++it;
        drop_peer_locked(instance, "unheard");
        continue;
      }
    }
    ++it;
  }
  MetricsRegistry::global().set_gauge(kLinksMetric, {{"state", "up"}}, static_cast<double>(up));
  MetricsRegistry::global().set_gauge(kLinksMetric, {{"state", "down"}}, static_cast<double>(down));
}

std::string MeshCore::readiness() const {
  if (!started_) return "mesh not started";
  if (stopping_) return "mesh stopping";
  if (discovery_) {
    if (std::string why = discovery_->readiness(); !why.empty()) return why;
  }
  // A node that serves before its first round of dials answers 404 for remote services it is
  // about to proxy: it waits one announce interval (every live peer is heard in it) and until
  // every peer it should dial was tried once.
  if (now() - started_at_ < options_.announce_interval) return "mesh is listening for peers";
  std::lock_guard lock(mutex_);
  for (const auto& [address, target] : static_targets_) {
    if (!target.dial_attempted) return "mesh has not tried peer " + address + " yet";
  }
  for (const auto& [instance, peer] : peers_) {
    if (instance_ < instance && !peer.link && !peer.dial_attempted) {
      return "mesh has not tried peer " + peer.node + " yet";
    }
  }
  return {};
}

}  // namespace plume::mesh
