// Test support for discovery: an io_context on its own thread, and a recorder of the events an
// agent reports, with waits on conditions (generous deadlines, no fixed sleeps).
#pragma once

#include "mesh/discovery.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace plume::mesh::testing {

class EventLoop {
 public:
  EventLoop() : guard_(context_.get_executor()), thread_([this] { context_.run(); }) {}
  ~EventLoop() {
    guard_.reset();
    context_.stop();
    thread_.join();
  }
  boost::asio::any_io_executor executor() { return context_.get_executor(); }

 private:
  boost::asio::io_context context_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard_;
  std::thread thread_;
};

class DiscoveryRecorder {
 public:
  using Clock = std::chrono::steady_clock;

  DiscoveryEvents events() {
    return DiscoveryEvents{
        .seen =
            [this](const Announcement& announcement) {
              std::lock_guard lock(mutex_);
              const std::string key =
                  announcement.instance.empty() ? announcement.address : announcement.instance;
              if (last_seen_.count(key) == 0) first_seen_[key] = Clock::now();
              last_seen_[key] = announcement;
              ++seen_count_[key];
              changed_.notify_all();
            },
        .gone =
            [this](const std::string& instance) {
              std::lock_guard lock(mutex_);
              gone_.push_back(instance);
              gone_at_[instance] = Clock::now();
              changed_.notify_all();
            },
    };
  }

  // Waits until `condition` (called under the lock with this recorder) holds, up to `timeout`.
  template <class Condition>
  bool wait(Condition condition, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return condition(*this); });
  }

  bool has_seen(const std::string& key) const { return last_seen_.count(key) != 0; }
  int seen_count(const std::string& key) const {
    const auto found = seen_count_.find(key);
    return found == seen_count_.end() ? 0 : found->second;
  }
  bool has_gone(const std::string& instance) const { return gone_at_.count(instance) != 0; }
  std::size_t gone_count() const { return gone_.size(); }

  // Locked snapshots for assertions after a wait.
  std::map<std::string, Announcement> seen() const {
    std::lock_guard lock(mutex_);
    return last_seen_;
  }
  std::vector<std::string> gone() const {
    std::lock_guard lock(mutex_);
    return gone_;
  }
  Clock::time_point first_seen(const std::string& key) const {
    std::lock_guard lock(mutex_);
    return first_seen_.at(key);
  }
  Clock::time_point gone_at(const std::string& instance) const {
    std::lock_guard lock(mutex_);
    return gone_at_.at(instance);
  }

 private:
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::map<std::string, Announcement> last_seen_;
  std::map<std::string, int> seen_count_;
  std::map<std::string, Clock::time_point> first_seen_;
  std::vector<std::string> gone_;
  std::map<std::string, Clock::time_point> gone_at_;
};

}  // namespace plume::mesh::testing
