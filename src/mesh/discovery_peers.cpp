#include "mesh/discovery_peers.hpp"

#include <spdlog/spdlog.h>

namespace plume::mesh {

PeerTable::Verdict PeerTable::accept(const Announcement& announcement, Clock::time_point now) {
  if (announcement.instance.empty() || announcement.instance == self_) return Verdict::Ignore;
  // Forget departures older than any packet still in flight could be.
  std::erase_if(departed_, [&](const auto& item) { return item.second < now; });
  if (departed_.count(announcement.instance) != 0) return Verdict::Ignore;

  auto found = peers_.find(announcement.instance);
  if (found != peers_.end() && announcement.seq <= found->second.seq) return Verdict::Ignore;
  if (announcement.goodbye) {
    if (found != peers_.end()) peers_.erase(found);
    departed_[announcement.instance] = now + 10 * node_timeout_;
    return Verdict::Gone;
  }
  peers_[announcement.instance] = Peer{announcement.seq, now + node_timeout_};
  return Verdict::Seen;
}

std::vector<std::string> PeerTable::expire(Clock::time_point now) {
  std::vector<std::string> expired;
  for (auto it = peers_.begin(); it != peers_.end();) {
    if (it->second.deadline <= now) {
      expired.push_back(it->first);
      it = peers_.erase(it);
    } else {
      ++it;
    }
  }
  return expired;
}

void PeerTable::extend_all(Clock::time_point until) {
  for (auto& [instance, peer] : peers_) peer.deadline = std::max(peer.deadline, until);
}

void GuardedEvents::set(DiscoveryEvents events) {
  std::lock_guard lock(mutex_);
  events_ = std::move(events);
  stopped_ = false;
}

void GuardedEvents::seen(const Announcement& announcement) {
  std::lock_guard lock(mutex_);
  if (stopped_ || !events_.seen) return;
  try {
    events_.seen(announcement);
  } catch (const std::exception& e) {
    spdlog::warn("event=discovery_listener_failed callback=seen instance={} error=\"{}\"",
                 announcement.instance, e.what());
  }
}

void GuardedEvents::gone(const std::string& instance) {
  std::lock_guard lock(mutex_);
  if (stopped_ || !events_.gone) return;
  try {
    events_.gone(instance);
  } catch (const std::exception& e) {
    spdlog::warn("event=discovery_listener_failed callback=gone instance={} error=\"{}\"", instance,
                 e.what());
  }
}

void GuardedEvents::stop() {
  std::lock_guard lock(mutex_);
  // The callbacks stay: stop() may run inside one of them.
  stopped_ = true;
}

bool GuardedEvents::stopped() const {
  std::lock_guard lock(mutex_);
  return stopped_;
}

}  // namespace plume::mesh
