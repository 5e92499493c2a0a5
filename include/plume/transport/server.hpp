// Server runs a node's HTTP front: Feathers' REST and Socket.io transports for the App's services,
// static files, CORS, /healthz, /readyz and /metrics (and an admin listener when configured), on
// Boost.Beast with one io_context per I/O thread.
// Limits (body size, header size, timeouts) are enforced with Feathers-shaped JSON errors.
#pragma once

#include <plume/core/app.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace plume {
class Connection;
}

namespace plume::transport {

struct CorsOptions {
  bool enabled = true;
  // Allowed origins; "*" allows any (the reply echoes the request's Origin).
  std::vector<std::string> origins = {"*"};
};

// Feathers' Socket.io transport at /socket.io/ (Engine.IO v4, Socket.IO v5, namespace "/").
// Defaults are socket.io's.
struct SocketIoOptions {
  bool enabled = true;
  std::chrono::milliseconds ping_interval{25'000};    // the server pings this often
  std::chrono::milliseconds ping_timeout{20'000};     // the client must answer within this
  std::chrono::milliseconds upgrade_timeout{10'000};  // polling -> WebSocket upgrade must finish within this
  std::size_t max_payload = 1'000'000;                // bytes per polling POST or WebSocket message
  // Engine.IO sessions open at once, and of those the ones that have not completed the
  // Socket.IO CONNECT yet (each holds memory until its 45 s connect timeout). A handshake past
  // either answers 503 Unavailable at once.
  std::size_t max_sessions = 10'000;
  std::size_t max_unconnected = 1'000;
  // Runs when a client connects to "/", before the server confirms it (a Socket.IO middleware).
  // It may log the connection in from its handshake headers (Authorization: Bearer <jwt>) with
  // Connection::set_login; a thrown plume::Error refuses the client with CONNECT_ERROR
  // {"message": ..., "data": ...}.
  std::function<Task<void>(std::shared_ptr<Connection>)> on_connect;
};

// Where the node's internals, GET /metrics and the mesh's node list (mesh/nodes), are served.
// With `port`, on a listener of their own (with /healthz and /readyz), and on the main port only
// with the token. Without it, on the main port to clients on the node itself: a loopback peer
// whose request carries no X-Forwarded-For, Forwarded or X-Real-IP (a proxy on the same machine
// relays with them), or any client with the token. Everyone else gets 403.
struct AdminOptions {
  std::optional<std::uint16_t> port;  // 0 = any free port (tests)
  std::string host = "127.0.0.1";
  // Lower-case hex SHA-256 of a bearer token (Authorization: Bearer <token>); empty = none.
  std::string token_sha256;
};

struct ServerOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 3030;  // 0 = any free port (tests)
  std::size_t threads = 0;    // I/O threads; 0 = one per core
  std::size_t body_limit = 1024 * 1024;
  std::size_t header_limit = 16 * 1024;
  std::chrono::milliseconds header_timeout{10'000};  // to receive a complete request head
  std::chrono::milliseconds body_timeout{30'000};    // to receive the body after the head
  std::chrono::milliseconds idle_timeout{60'000};    // keep-alive connection with no request
  std::chrono::milliseconds shutdown_grace{10'000};  // in-flight requests may finish within this
  std::size_t max_connections = 10'000;
  CorsOptions cors;
  std::optional<std::string> public_dir;  // static files served at /
  SocketIoOptions socketio;
  AdminOptions admin;
  bool access_log = false;
};

struct Route;

// A readiness probe for /readyz: returns an empty string when ready, else why not.
using ReadinessCheck = std::function<std::string()>;

class Server {
 public:
  Server(App& app, ServerOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  void add_readiness_check(std::string name, ReadinessCheck check);

  // Binds and starts the I/O threads; returns the bound port. Throws std::runtime_error with
  // the address and the reason when the port cannot be bound.
  std::uint16_t start();
  std::uint16_t port() const noexcept;
  // The admin listener's bound port, or 0 when there is none.
  std::uint16_t admin_port() const noexcept;

  // Graceful stop: stop accepting, let in-flight requests finish (bounded by shutdown_grace),
  // close idle connections, join the I/O threads. Safe to call from any thread, more than once.
  void stop();
  // Blocks until stop() has completed.
  void wait();

 private:
  // Layers built on the server (the mesh at /_mesh, gateway routes) add endpoints through
  // add_route() in transport/server_routes.hpp, which keeps Beast's types out of this header.
  friend void add_route(Server& server, Route route);
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace plume::transport
