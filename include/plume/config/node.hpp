// Node is one running Plume node assembled from its Config: the App with its worker pool, a
// store per configured service (each database opened once and shared), the HTTP Server with its
// limits, CORS, static files and readiness checks, and, when configured, the mesh, replica sync
// and job queue workers.
#pragma once

#include <plume/config/config.hpp>
#include <plume/core/app.hpp>
#include <plume/gateway/gateway.hpp>
#include <plume/mesh/mesh.hpp>
#include <plume/mesh/sync.hpp>
#include <plume/queue/queue.hpp>
#include <plume/transport/server.hpp>

#include <cstdint>
#include <memory>
#include <vector>

namespace plume::config {

// The server's options as the configuration sets them (host, port, threads, public, cors, limits,
// logging.access).
transport::ServerOptions server_options(const Config& config);

// Throws ConfigError for what the configuration asks and this build cannot do (a PostgreSQL
// database), so that `plume check` fails where `plume serve` would.
void check_supported(const Config& config);

class Node {
 public:
  // Builds everything but does not listen yet. Throws ConfigError naming the key when a database
  // cannot be used (a PostgreSQL URL in this build, a SQLite file that cannot be opened).
  // SQLite paths are relative to the working directory; missing parent directories are created.
  explicit Node(Config config);
  ~Node();
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  // Listens and logs the address; returns the bound port. Throws std::runtime_error when the
  // address cannot be bound.
  std::uint16_t start();
  // Graceful stop, bounded by limits.shutdownTimeout.
  void stop();

  App& app() noexcept { return *app_; }
  transport::Server& server() noexcept { return *server_; }
  // The mesh and replica sync, when configured (else null).
  mesh::Mesh* mesh() noexcept { return mesh_.get(); }
  mesh::ReplicaSync* sync() noexcept { return sync_.get(); }
  gateway::Gateway* gateway() noexcept { return gateway_.get(); }
  const Config& config() const noexcept { return config_; }

 private:
  void assemble_cluster();
  struct Stores;
  Config config_;
  std::unique_ptr<App> app_;
  std::unique_ptr<Stores> stores_;
  std::unique_ptr<transport::Server> server_;
  std::unique_ptr<mesh::ReplicaSync> sync_;
  std::unique_ptr<mesh::Mesh> mesh_;
  std::unique_ptr<gateway::Gateway> gateway_;
  std::vector<std::unique_ptr<queue::Queue>> queues_;
};

}  // namespace plume::config
