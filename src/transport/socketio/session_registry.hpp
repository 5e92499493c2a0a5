// The live Engine.IO sessions of a server by sid. Requests of one session may arrive on any I/O
// thread (SO_REUSEPORT spreads connections), so lookups are locked; the session itself is only
// touched on its own executor.
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace plume::transport::socketio {

class EngineSession;

class SessionRegistry {
 public:
  void add(std::shared_ptr<EngineSession> session);
  std::shared_ptr<EngineSession> find(const std::string& sid) const;
  void remove(const std::string& sid);
  // Empties the registry and returns what it held (server stop).
  std::vector<std::shared_ptr<EngineSession>> take_all();
  std::size_t size() const;

 private:
  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::shared_ptr<EngineSession>> sessions_;
};

// Admission of new sessions: a ticket per session, held until the session closes, counts it as
// open and, until its client completes the Socket.IO CONNECT, as unconnected.
class SessionAdmission {
 public:
  class Ticket {
   public:
    explicit Ticket(std::shared_ptr<SessionAdmission> admission) : admission_(std::move(admission)) {}
    ~Ticket();
    Ticket(const Ticket&) = delete;
    Ticket& operator=(const Ticket&) = delete;
    // The client connected to "/": it no longer counts as unconnected.
    void connected();

   private:
    std::shared_ptr<SessionAdmission> admission_;
    bool connected_ = false;
  };

  SessionAdmission(std::size_t max_sessions, std::size_t max_unconnected)
      : max_sessions_(max_sessions), max_unconnected_(max_unconnected) {}
  // A ticket, or null when either cap is reached.
  static std::shared_ptr<Ticket> admit(const std::shared_ptr<SessionAdmission>& admission);

 private:
  const std::size_t max_sessions_;
  const std::size_t max_unconnected_;
  std::atomic<std::size_t> open_{0};
  std::atomic<std::size_t> unconnected_{0};
};

// 15 random bytes in URL-safe base64: 20 characters, as engine.io's base64id makes them.
std::string random_session_id();

}  // namespace plume::transport::socketio
