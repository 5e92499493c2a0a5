// A Connection for channel tests: it stands in for a transport's socket and records every event
// it is sent, thread-safely.
#pragma once

#include <plume/core/connection.hpp>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace plume::testing {

struct SentEvent {
  std::string path;
  std::string event;
  Json data;
};

class RecordingConnection final : public Connection {
 public:
  explicit RecordingConnection(std::string id) : Connection(std::move(id), "socketio", {}) {}

  void send_event(std::string_view path, std::string_view event, const Json& data) override {
    std::lock_guard lock(mutex_);
    sent_.push_back({std::string(path), std::string(event), data});
  }
  void close(std::string_view) override {}

  std::vector<SentEvent> sent() const {
    std::lock_guard lock(mutex_);
    return sent_;
  }
  std::size_t count() const {
    std::lock_guard lock(mutex_);
    return sent_.size();
  }

 private:
  mutable std::mutex mutex_;
  std::vector<SentEvent> sent_;
};

inline std::shared_ptr<RecordingConnection> recording(std::string id) {
  return std::make_shared<RecordingConnection>(std::move(id));
}

}  // namespace plume::testing
