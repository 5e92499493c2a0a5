// The state an I/O thread owns: its io_context, its acceptor and the sessions it runs. Only the
// owning thread touches the session list; other threads post to the io_context.
#pragma once

#include "net/http_server.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <chrono>
#include <list>
#include <optional>

namespace plume::net {

// What every session of a server shares, read-only after start except the counters.
struct SharedServerState {
  SharedServerState(const HttpServerOptions& server_options, Handler request_handler)
      : options(server_options), handler(std::move(request_handler)) {}

  const HttpServerOptions& options;
  Handler handler;
  std::atomic<std::size_t> connections{0};
};

// A live connection as the stop procedure and the timeout sweep see it.
struct SessionHandle {
  boost::asio::ip::tcp::socket* socket = nullptr;
  bool busy = false;  // between a complete request head and the end of its response
  // The pending read or write must finish before this; the sweep closes the socket after it.
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
};

struct Worker {
  explicit Worker(SharedServerState& shared_state, std::size_t thread_index)
      : shared(shared_state), index(thread_index) {}

  // Closes every connection that is not in the middle of a request; busy ones close after
  // their response (sessions check `stopping`).
  void close_idle_sessions();
  void close_all_sessions();
  // Closes the connections whose deadline has passed. One periodic sweep per thread costs less
  // than arming and cancelling a timer around every read and write.
  void close_expired_sessions(std::chrono::steady_clock::time_point now);

  SharedServerState& shared;
  std::size_t index;
  bool stopping = false;
  // Written by this thread only (a per-request counter shared by all threads would bounce its
  // cache line between cores); /metrics sums the workers.
  std::atomic<std::size_t> in_flight{0};
  // Declared before the io_context: destroying the context destroys suspended sessions, which
  // unregister themselves from this list.
  std::list<SessionHandle> sessions;
  boost::asio::io_context ioc{1};
  std::optional<boost::asio::ip::tcp::acceptor> acceptor;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work;
  std::optional<boost::asio::steady_timer> sweep_timer;
};

// The coroutine that serves one connection until it closes.
Task<void> run_session(Worker& worker, boost::asio::ip::tcp::socket accepted);

}  // namespace plume::net
