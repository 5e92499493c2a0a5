// What the announcing backends (UDP, Redis) share: a table of the instances heard, which turns
// verified announcements into seen/gone decisions, and a guard that keeps DiscoveryEvents from
// running once the agent has stopped.
#pragma once

#include "mesh/announcement.hpp"
#include "mesh/discovery.hpp"

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace plume::mesh {

class PeerTable {
 public:
  using Clock = std::chrono::steady_clock;

  enum class Verdict {
    Seen,    // a fresh announcement of a live instance: report it
    Gone,    // its goodbye: report it gone
    Ignore,  // our own, a replay (seq not above the last one), or an instance that said goodbye
  };

  PeerTable(std::string self_instance, std::chrono::milliseconds node_timeout)
      : self_(std::move(self_instance)), node_timeout_(node_timeout) {}

  // Decides what a verified announcement means and records it.
  Verdict accept(const Announcement& announcement, Clock::time_point now);
  // The instances unheard for node_timeout, removed from the table.
  std::vector<std::string> expire(Clock::time_point now);
  // Lets no known instance expire before `until`: while the channel the announcements travel on
  // is down (Redis), and for a while after it returns, silence proves nothing.
  void extend_all(Clock::time_point until);
  bool knows(const std::string& instance) const { return peers_.count(instance) != 0; }
  std::size_t size() const noexcept { return peers_.size(); }

 private:
  struct Peer {
    std::uint64_t seq = 0;
    Clock::time_point deadline;
  };
  std::string self_;
  std::chrono::milliseconds node_timeout_;
  std::map<std::string, Peer> peers_;
  // Instances that said goodbye, kept for a while so that a replayed or late packet of theirs
  // does not bring them back (a restarted node announces a new instance id).
  std::map<std::string, Clock::time_point> departed_;
};

// Runs DiscoveryEvents until stop(); once stop() returned, no callback runs or is still running
// (callbacks from the stopping thread itself excepted), so the mesh may tear down what they use.
class GuardedEvents {
 public:
  void set(DiscoveryEvents events);
  void seen(const Announcement& announcement);
  void gone(const std::string& instance);
  void stop();
  bool stopped() const;

 private:
  mutable std::recursive_mutex mutex_;
  DiscoveryEvents events_;
  bool stopped_ = true;
};

}  // namespace plume::mesh
