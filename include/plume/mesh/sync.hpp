// Replica sync: replicas of the same services behind a load balancer share their service events
// through a Redis Stream, so that a real-time client connected to any replica sees every change.
// The origin publishes its own clients directly; the others re-emit the event marked as synced:
// its context's params.extra holds {"synced": true, "origin": "<instance>"}. Events re-emitted by
// the mesh for a remote service (params.extra.remote = true) are not synced: every replica gets
// those from the mesh itself.
#pragma once

#include <plume/core/app.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace plume::mesh {

struct SyncOptions {
  std::string redis = "redis://127.0.0.1:6379";
  // The stream all replicas of one application share (XADD ... MAXLEN ~ max_length).
  std::string stream = "plume:sync";
  std::size_t max_length = 10'000;
  // A replica that was cut off catches up from its last seen entry, as far as the stream reaches.
  std::chrono::milliseconds block{1'000};  // XREAD BLOCK time per read
  // Events waiting for Redis while it is unreachable; past this the oldest are dropped (and
  // counted, and reported by the readers as a gap in this replica's sequence).
  std::size_t max_queued = 10'000;
};

// Runs its two Redis connections (a writer, and a reader blocked in XREAD) on a thread of its
// own. Destroy it before the App.
class ReplicaSync {
 public:
  // Throws std::invalid_argument for a bad Redis URL.
  ReplicaSync(App& app, SyncOptions options);
  ~ReplicaSync();
  ReplicaSync(const ReplicaSync&) = delete;
  ReplicaSync& operator=(const ReplicaSync&) = delete;

  // Registers the App listener on the first start: call it before the node serves calls
  // (App::on_event is not synchronised with emitting).
  void start();
  void stop();
  // Empty when Redis is reachable, else why not (for /readyz).
  std::string readiness() const;
  // This replica's id in the stream's origin field (random per start).
  const std::string& instance() const noexcept;
  // Events queued for Redis right now, and dropped so far because the queue was full.
  std::size_t queued() const noexcept;
  std::uint64_t dropped() const noexcept;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;  // shared with the App listener and the sync thread
};

}  // namespace plume::mesh
