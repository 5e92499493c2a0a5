// The mesh: nodes find each other (UDP multicast, Redis or a static list), link up over TLS and a
// WebSocket at /_mesh that prove the cluster secret both ways, and offer their services to each
// other. A node registers a proxy for every remote service it consumes; calls through the proxy
// are balanced over the nodes offering the service, retried (find, get) or failed fast when a
// node dies, bounded by deadlines and circuit breakers; service events travel back in an explicit
// envelope and reach the node's real-time clients through its channels.
#pragma once

#include <plume/core/app.hpp>
#include <plume/core/json.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace plume::transport {
class Server;
}

namespace plume::mesh {

enum class Balance { RoundRobin, LeastPending };

// Moleculer's circuit-breaker defaults: trip when at least half of the last minute's calls
// (and at least 20 of them) failed; try one call again after 10 s.
struct BreakerOptions {
  bool enabled = true;
  double threshold = 0.5;
  std::size_t min_requests = 20;
  std::chrono::milliseconds window{60'000};
  std::chrono::milliseconds half_open_after{10'000};
};

// How links are encrypted. Psk: TLS 1.3 keyed from the cluster secret (HKDF-SHA256 of it as an
// external pre-shared key), so a node without the secret completes no TLS handshake. Certificates:
// TLS 1.3 with mutual verification (each side's certificate chains to `ca`). Off: plaintext
// WebSockets, readable and injectable by anyone on the path (a warning is logged at start).
enum class MeshTlsMode { Psk, Certificates, Off };

struct MeshTlsOptions {
  MeshTlsMode mode = MeshTlsMode::Psk;
  std::string cert;  // PEM certificate chain of this node (Certificates)
  std::string key;   // PEM private key of `cert`
  std::string ca;    // PEM CA certificates a peer's certificate must chain to
};

struct MeshOptions {
  std::string secret;  // the cluster secret: announcements, link TLS and link handshakes prove it
  MeshTlsOptions tls;
  // "udp", "static" or "redis://host:port[/db]".
  std::string discovery = "udp";
  std::vector<std::string> peers;            // ws://host:port or wss://host:port, for static discovery
  std::vector<std::string> publish = {"*"};  // globs of local service paths offered to the mesh
  std::vector<std::string> consume = {"*"};  // globs of remote service paths proxied here
  // This node's id in the mesh; empty = "<name>-<advertise>" when advertise is set, else
  // "<name>-<first 8 hex digits of the instance id>" (the id is stated by /_mesh before the
  // server has bound its port).
  std::string node_id;
  std::string name = "plume";  // the node's configured name
  // host:port other nodes dial; empty = bind_host and the server's port.
  std::string advertise;
  // The server's bind host (ServerOptions::host), for the default advertised address.
  std::string bind_host = "127.0.0.1";

  // UDP discovery: an administratively scoped multicast group; on loopback for tests.
  std::string multicast_group = "239.255.42.99";
  std::uint16_t multicast_port = 45892;
  std::string multicast_interface;  // the interface address to send on; empty = the bind host
  std::uint8_t multicast_ttl = 1;

  // Announce (UDP/Redis) this often; a node unheard for node_timeout is gone.
  std::chrono::milliseconds announce_interval{500};
  std::chrono::milliseconds node_timeout{2'500};
  // Link heartbeats: a link silent for heartbeat_timeout is closed (failure detection < 3 s).
  std::chrono::milliseconds heartbeat_interval{500};
  std::chrono::milliseconds heartbeat_timeout{2'000};
  // Reconnection backoff for links to nodes still announced.
  std::chrono::milliseconds reconnect_min{100};
  std::chrono::milliseconds reconnect_max{5'000};

  // Remote calls: the deadline when the caller sets none, the calls waiting on one node, and
  // how many other nodes an idempotent call (find, get) tries after a node failed.
  std::chrono::milliseconds call_timeout{10'000};
  std::size_t max_pending = 10'000;
  std::size_t retries = 2;
  // Among remote nodes. A path this node serves itself never gets a proxy: local always wins.
  Balance balance = Balance::RoundRobin;
  BreakerOptions breaker;

  // Gateway mode: "jwt" makes proxies authenticate external calls at the edge (the node's
  // authentication secret). Empty: the owning node checks the forwarded authentication.
  std::string remote_auth;
};

class Mesh {
 public:
  // Registers /_mesh on the server, the mesh/nodes service and an event listener on the app;
  // call before server.start(). Throws std::invalid_argument
  // when options.secret is empty.
  Mesh(App& app, transport::Server& server, MeshOptions options);
  ~Mesh();
  Mesh(const Mesh&) = delete;
  Mesh& operator=(const Mesh&) = delete;

  // Starts discovery and links; call after server.start() (the advertised port is known).
  void start();
  // Says goodbye, closes links (calls in flight fail with Unavailable), stops discovery.
  void stop();

  // Empty when ready for /readyz, else why not: discovery runs, one announce interval has
  // passed since start (live peers are heard in it) and every peer this node dials was tried
  // once, so that a fresh node does not answer 404 for remote services it is about to proxy.
  std::string readiness() const;
  // What mesh/nodes returns: one object per known node.
  Json nodes() const;
  const std::string& node_id() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace plume::mesh
