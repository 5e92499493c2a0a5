// EngineSession is one Engine.IO v4 client: its outgoing packets, the parked long-poll, the
// WebSocket it may have upgraded to, and the server-driven heartbeat. A session lives on the
// io_context of the thread that took its handshake; requests arriving on other threads run the
// session's methods on its executor (co_spawn(session->executor(), ...)). Every method below
// except the constructor and the accessors marked "any thread" must run there.
#pragma once

#include "transport/socketio/engineio_packet.hpp"

#include <plume/core/json.hpp>
#include <plume/core/task.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace plume::transport::socketio {

class SessionRegistry;
class EngineSession;

// Runs `f(session)` (a plain function) on the session's executor; awaiting the returned
// operation resumes the caller on its own executor with the result. Await it from a separate
// statement (`auto op = run_on_session(...); co_await std::move(op);`): GCC 12 may destroy
// class-type temporaries of a co_await expression twice.
template <class F>
auto run_on_session(std::shared_ptr<EngineSession> session, F f);

struct EngineOptions {
  std::chrono::milliseconds ping_interval{25'000};
  std::chrono::milliseconds ping_timeout{20'000};
  std::chrono::milliseconds upgrade_timeout{10'000};
  std::size_t max_payload = 1'000'000;
};

// Engine.IO error codes (engine.io lib/server.ts Server.errors) and their messages.
enum class EngineError : int {
  TransportUnknown = 0,
  UnknownSid = 1,
  BadHandshakeMethod = 2,
  BadRequest = 3,
  Forbidden = 4,
  UnsupportedProtocolVersion = 5,
};
std::string_view engine_error_message(EngineError error) noexcept;

// What the session delivers upwards (the Socket.IO layer).
class EngineSessionHandler {
 public:
  virtual ~EngineSessionHandler() = default;
  // One Engine.IO message. The session awaits it before reading on: a handler that is saturated
  // suspends here, which stops the reading of that client only.
  virtual Task<void> on_message(std::string_view message) = 0;
  virtual void on_close(std::string_view reason) = 0;
};

// A WebSocket carrying a session's packets, one per text frame. It runs on the thread that
// accepted the socket, which may differ from the session's; both calls are thread-safe.
class WebSocketLink {
 public:
  virtual ~WebSocketLink() = default;
  virtual void send(std::string frame) = 0;
  virtual void close() = 0;
};

class EngineSession : public std::enable_shared_from_this<EngineSession> {
 public:
  using Executor = boost::asio::any_io_executor;

  EngineSession(SessionRegistry& registry, Executor executor, EngineOptions options, JsonObject headers);
  EngineSession(const EngineSession&) = delete;
  EngineSession& operator=(const EngineSession&) = delete;

  // Any thread.
  const std::string& sid() const noexcept { return sid_; }
  const Executor& executor() const noexcept { return executor_; }
  const EngineOptions& options() const noexcept { return options_; }
  const JsonObject& headers() const noexcept { return headers_; }
  bool closed() const noexcept { return closed_flag_.load(std::memory_order_acquire); }

  // Registers the session and starts its heartbeat. `link` is the WebSocket of a session opened
  // directly on one (its first frame is the open packet); null for polling.
  void open(std::shared_ptr<EngineSessionHandler> handler, std::shared_ptr<WebSocketLink> link);
  // 0{"sid":…,"upgrades":[…],"pingInterval":…,"pingTimeout":…,"maxPayload":…}
  std::string open_packet(bool can_upgrade) const;

  // Queues an Engine.IO message for the client.
  void send_message(std::string_view payload);
  // Ends the session: the parked poll returns the close packet, the WebSocket closes, the
  // handler hears of it and the registry forgets the sid. Idempotent.
  void close(std::string_view reason);

  // Polling GET: waits until packets are queued and returns them joined. A session that has
  // upgraded refuses (Bad request); a second concurrent GET closes the session (Node: "overlap
  // from client") and is refused with an empty 500.
  struct PollResult {
    enum class Kind { Packets, Upgraded, Overlap } kind = Kind::Packets;
    std::string body;
  };
  Task<PollResult> poll();
  // Polling POST body: one or more packets. False when the session has upgraded. `body` must
  // outlive the call (the request it came in).
  Task<bool> receive_payload(const std::string& body);

  // WebSocket transport.
  // One frame from the session's WebSocket (after the upgrade, or a direct connection).
  Task<void> receive_frame(const std::string& frame);
  // A WebSocket asks to take over this polling session; false when one already did or does.
  bool begin_probe(std::shared_ptr<WebSocketLink> link);
  // "2probe" arrived on it: the parked poll returns a noop so that the client can pause polling.
  void probe(const std::shared_ptr<WebSocketLink>& link);
  // "5" arrived on it: the WebSocket carries the session from now on. False if it is too late.
  bool finish_upgrade(const std::shared_ptr<WebSocketLink>& link);
  // The probing WebSocket went away before upgrading: polling goes on.
  void end_probe(const std::shared_ptr<WebSocketLink>& link);

 private:
  void send_packet(std::string encoded);
  Task<void> handle_packet(const EnginePacket& packet);
  Task<void> heartbeat();

  SessionRegistry& registry_;
  const Executor executor_;
  const EngineOptions options_;
  const JsonObject headers_;
  const std::string sid_;
  std::shared_ptr<EngineSessionHandler> handler_;

  bool closed_ = false;
  std::atomic<bool> closed_flag_{false};

  // Polling: packets waiting for the next GET, and the GET parked on poll_timer_.
  std::deque<std::string> outbox_;
  std::size_t outbox_bytes_ = 0;
  bool polling_ = false;
  boost::asio::steady_timer poll_timer_;

  // WebSocket: the one carrying the session, and the one probing to take it over.
  std::shared_ptr<WebSocketLink> link_;
  std::shared_ptr<WebSocketLink> probe_link_;
  // The probe sent "2probe": the client pauses polling once it reads "3probe" and sends "5"
  // only after its outstanding GET returns, so no GET may stay parked from now on.
  bool probed_ = false;

  // Heartbeat (Engine.IO v4: the server pings, the client answers pong within pingTimeout).
  boost::asio::steady_timer heartbeat_timer_;
  bool awaiting_pong_ = false;
  bool pong_deadline_refreshed_ = false;
};

template <class F>
auto run_on_session(std::shared_ptr<EngineSession> session, F f) {
  using R = decltype(f(*session));
  auto executor = session->executor();
  // An immediately invoked coroutine without captures: its arguments live in its own frame.
  auto task = [](std::shared_ptr<EngineSession> s, F fn) -> Task<R> { co_return fn(*s); }(std::move(session),
                                                                                          std::move(f));
  return boost::asio::co_spawn(executor, std::move(task), boost::asio::use_awaitable);
}

}  // namespace plume::transport::socketio
