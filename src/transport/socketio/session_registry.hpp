// The live Engine.IO sessions of a server by sid. Requests of one session may arrive on any I/O
// thread (SO_REUSEPORT spreads connections), so lookups are locked; the session itself is only
// touched on its own executor.
#pragma once

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

// 15 random bytes in URL-safe base64: 20 characters, as engine.io's base64id makes them.
std::string random_session_id();

}  // namespace plume::transport::socketio
