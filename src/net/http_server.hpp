// HttpServer accepts HTTP/1.1 connections on N I/O threads (one io_context and one SO_REUSEPORT
// acceptor per thread, so a connection lives and dies on the thread that accepted it) and runs one
// session coroutine per connection that hands each request to a Handler. It enforces the limits
// (body, header, timeouts, connections) and stops gracefully.
#pragma once

#include "net/http_types.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace plume::net {

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;
  std::size_t threads = 1;
  std::size_t body_limit = 1024 * 1024;
  std::size_t header_limit = 16 * 1024;
  std::chrono::milliseconds header_timeout{10'000};
  std::chrono::milliseconds body_timeout{30'000};
  std::chrono::milliseconds idle_timeout{60'000};
  std::chrono::milliseconds shutdown_grace{10'000};
  std::size_t max_connections = 10'000;
  // Runs first on each I/O thread, with the thread's index (per-thread state such as metric shards).
  std::function<void(std::size_t)> thread_init;
  // Requests it picks are handed over before their body is read (see StreamExchange).
  StreamSelector select_stream;
};

struct Worker;
struct SharedServerState;

class HttpServer {
 public:
  HttpServer(HttpServerOptions options, Handler handler);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  std::uint16_t start();
  std::uint16_t port() const noexcept { return port_.load(); }
  void stop();
  void wait();

  std::size_t connections() const noexcept;
  std::size_t requests_in_flight() const noexcept;

  const HttpServerOptions& options() const noexcept { return options_; }

 private:
  Task<void> accept_loop(Worker& worker);
  Task<void> sweep_loop(Worker& worker);
  void stop_now();
  bool on_io_thread() const;

  HttpServerOptions options_;
  std::unique_ptr<SharedServerState> shared_;
  std::atomic<std::uint16_t> port_{0};

  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<std::thread> threads_;

  std::mutex state_mutex_;
  std::condition_variable state_changed_;
  enum class State { Idle, Running, Stopping, Stopped } state_ = State::Idle;
  std::thread stopper_;  // runs stop() when it was called from an I/O thread
};

}  // namespace plume::net
