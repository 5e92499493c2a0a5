// Test support for links: a real server with /_mesh (MeshNode), a dialer on an io_context of its
// own (Dialer), and a Recorder of what the link handlers saw, for the test thread to wait on.
#pragma once

#include "mesh/link.hpp"
#include "mesh/link_tls.hpp"

#include <plume/core/app.hpp>
#include <plume/transport/server.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace plume::mesh::testing {

namespace asio = boost::asio;
using namespace std::chrono_literals;

inline constexpr auto kDeadline = 60s;  // generous: the machine may be loaded (or under valgrind)

// What a node's link handlers saw, for the test thread to wait on.
class Recorder {
 public:
  LinkHandlers handlers() {
    LinkHandlers h;
    h.established = [this](const std::shared_ptr<Link>& link) {
      std::lock_guard lock(mutex_);
      established_.push_back(link);
      threads_.push_back(std::this_thread::get_id());
      cv_.notify_all();
    };
    h.frame = [this](const std::shared_ptr<Link>& link, std::string_view frame) {
      std::lock_guard lock(mutex_);
      bool known = false;
      for (auto& l : established_) known = known || l == link;
      if (!known) frame_before_established_ = true;
      frames_.emplace_back(frame);
      threads_.push_back(std::this_thread::get_id());
      cv_.notify_all();
    };
    h.closed = [this](const std::shared_ptr<Link>& link, const std::string& reason) {
      std::lock_guard lock(mutex_);
      closed_[link.get()].push_back(reason);
      closed_at_ = std::chrono::steady_clock::now();
      threads_.push_back(std::this_thread::get_id());
      cv_.notify_all();
    };
    return h;
  }

  template <class Predicate>
  bool wait(Predicate predicate, std::chrono::milliseconds timeout = kDeadline) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, timeout, [&] { return predicate(*this); });
  }

  // Only inside wait()'s predicate or after the links are gone.
  std::vector<std::shared_ptr<Link>> established_;
  std::vector<std::string> frames_;
  std::map<Link*, std::vector<std::string>> closed_;
  std::vector<std::thread::id> threads_;
  std::chrono::steady_clock::time_point closed_at_;
  bool frame_before_established_ = false;

  std::size_t established_count() {
    std::lock_guard lock(mutex_);
    return established_.size();
  }
  std::shared_ptr<Link> link(std::size_t i = 0) {
    std::lock_guard lock(mutex_);
    return established_.at(i);
  }
  std::vector<std::string> closed_reasons(Link* link) {
    std::lock_guard lock(mutex_);
    return closed_[link];
  }
  std::vector<std::string> frames() {
    std::lock_guard lock(mutex_);
    return frames_;
  }
  std::vector<std::thread::id> threads() {
    std::lock_guard lock(mutex_);
    return threads_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
};

// A node's link settings with TLS keyed from `secret`, as a node has them by default.
inline LinkSettings settings_for(std::string node, std::string secret) {
  LinkSettings settings;
  settings.tls = make_link_tls(MeshTlsOptions{}, secret);
  settings.secret = std::move(secret);
  settings.self = {std::move(node), random_hex(), ""};
  // Heartbeat tests set their own; the others must not see a false timeout on a loaded machine.
  settings.heartbeat_timeout = 30s;
  return settings;
}

// The same with plaintext links (mesh.tls: off), for peers that speak the protocol by hand.
inline LinkSettings plaintext_settings_for(std::string node, std::string secret) {
  LinkSettings settings = settings_for(std::move(node), std::move(secret));
  settings.tls = nullptr;
  return settings;
}

// A real server with /_mesh, on a free loopback port.
class MeshNode {
 public:
  explicit MeshNode(LinkSettings settings) : app_(AppOptions{1}) {
    transport::ServerOptions options;
    options.host = "127.0.0.1";
    options.port = 0;
    options.threads = 1;
    server_ = std::make_unique<transport::Server>(app_, options);
    settings_ = settings;
    listen_for_links(*server_, settings, recorder.handlers());
    port_ = server_->start();
    settings_.self.address = address();
  }
  ~MeshNode() { stop(); }
  void stop() {
    server_->stop();
    server_->wait();
  }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  std::uint16_t port() const { return port_; }
  const LinkSettings& settings() const { return settings_; }

  Recorder recorder;

 private:
  App app_;
  std::unique_ptr<transport::Server> server_;
  LinkSettings settings_;
  std::uint16_t port_ = 0;
};

// Dials from an io_context of its own, run by one thread.
class Dialer {
 public:
  Dialer() : work_(asio::make_work_guard(ctx_)), thread_([this] { ctx_.run(); }) {}
  ~Dialer() {
    work_.reset();
    ctx_.stop();
    thread_.join();
  }
  std::shared_ptr<Link> dial(const std::string& address, LinkSettings settings) {
    auto done = asio::co_spawn(
        ctx_, dial_link(ctx_.get_executor(), address, std::move(settings), recorder.handlers()),
        asio::use_future);
    return done.get();
  }
  std::thread::id thread_id() const { return thread_.get_id(); }

  Recorder recorder;

 private:
  asio::io_context ctx_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::thread thread_;
};

inline std::string numbered(std::size_t i) { return R"({"t":"data","n":)" + std::to_string(i) + "}"; }

// rejected_handshakes() once it reaches `expected`, or its value after 5 s: a listener counts a
// refusal on its own thread, possibly after the dialer has seen the handshake fail.
inline std::uint64_t rejected_handshakes_settled(std::uint64_t expected) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (rejected_handshakes() < expected && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return rejected_handshakes();
}

}  // namespace plume::mesh::testing
