#include "transport/socketio/session_registry.hpp"

#include "transport/socketio/engineio_session.hpp"

#include <openssl/rand.h>

#include <array>
#include <stdexcept>

namespace plume::transport::socketio {

void SessionRegistry::add(std::shared_ptr<EngineSession> session) {
  std::lock_guard lock(mutex_);
  std::string sid = session->sid();
  sessions_.emplace(std::move(sid), std::move(session));
}

std::shared_ptr<EngineSession> SessionRegistry::find(const std::string& sid) const {
  std::lock_guard lock(mutex_);
  auto it = sessions_.find(sid);
  return it == sessions_.end() ? nullptr : it->second;
}

void SessionRegistry::remove(const std::string& sid) {
  std::shared_ptr<EngineSession> removed;  // released after the lock
  std::lock_guard lock(mutex_);
  auto it = sessions_.find(sid);
  if (it == sessions_.end()) return;
  removed = std::move(it->second);
  sessions_.erase(it);
}

std::vector<std::shared_ptr<EngineSession>> SessionRegistry::take_all() {
  std::lock_guard lock(mutex_);
  std::vector<std::shared_ptr<EngineSession>> all;
  all.reserve(sessions_.size());
  for (auto& [sid, session] : sessions_) all.push_back(std::move(session));
  sessions_.clear();
  return all;
}

std::size_t SessionRegistry::size() const {
  std::lock_guard lock(mutex_);
  return sessions_.size();
}

std::shared_ptr<SessionAdmission::Ticket> SessionAdmission::admit(
    const std::shared_ptr<SessionAdmission>& admission) {
  if (admission->open_.fetch_add(1) >= admission->max_sessions_) {
    admission->open_.fetch_sub(1);
    return nullptr;
  }
  if (admission->unconnected_.fetch_add(1) >= admission->max_unconnected_) {
    admission->unconnected_.fetch_sub(1);
    admission->open_.fetch_sub(1);
    return nullptr;
  }
  return std::make_shared<Ticket>(admission);
}

void SessionAdmission::Ticket::connected() {
  if (connected_) return;
  connected_ = true;
  admission_->unconnected_.fetch_sub(1);
}

SessionAdmission::Ticket::~Ticket() {
  if (!connected_) admission_->unconnected_.fetch_sub(1);
  admission_->open_.fetch_sub(1);
}

std::string random_session_id() {
  // Session ids authorise every later request of the session, so they come from a CSPRNG.
  std::array<unsigned char, 15> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
    throw std::runtime_error("no random bytes for a session id");
  }
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string id;
  id.reserve(20);
  for (std::size_t i = 0; i < bytes.size(); i += 3) {
    std::uint32_t word = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    id.push_back(kAlphabet[(word >> 18) & 63]);
    id.push_back(kAlphabet[(word >> 12) & 63]);
    id.push_back(kAlphabet[(word >> 6) & 63]);
    id.push_back(kAlphabet[word & 63]);
  }
  return id;
}

}  // namespace plume::transport::socketio
