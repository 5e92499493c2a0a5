// A Link is an authenticated, encrypted, heartbeated WebSocket between two nodes at /_mesh. It
// carries JSON text frames in order, both ways; the mesh above it speaks calls, replies, service
// state and events over it. Handshake (both ways, nothing else passes before it completes):
//   dialer -> listener: GET /_mesh, Connection: Upgrade, Upgrade: TLS/1.3 (RFC 2817 3.2)
//   listener -> dialer: 101 Switching Protocols, Upgrade: TLS/1.3
//   both:               a TLS 1.3 handshake on the socket (link_tls.hpp): the PSK derived from the
//                       secret, or certificates verified both ways. Everything after it is inside TLS.
//   dialer -> listener: WebSocket upgrade to /_mesh
//   listener -> dialer: {"t":"challenge","v","node","instance","nonce"}
//   dialer -> listener: {"t":"hello","v","node","instance","address","nonce","proof"}
//                       proof = HMAC(secret, "dial|" + listener nonce + "|" + dialer nonce + "|" + dialer
//                       instance + "|" + binding)
//   listener -> dialer: {"t":"welcome","proof"}
//                       proof = HMAC(secret, "listen|" + dialer nonce + "|" + listener nonce + "|" + listener
//                       instance + "|" + binding)
// binding is the TLS session's exported keying material (hex): a proof made in one TLS session is
// worthless in another, so even a holder of a valid certificate who lacks the secret cannot relay
// a handshake between two sessions. With TLS off (mesh.tls: off) the dialer sends the WebSocket
// upgrade at once and the proofs end with the instance (no "|" + binding); a node refuses a
// dialer of the other mode with 403.
// v is kProtocolVersion; a node of another version is refused like a wrong proof. Each proof binds
// both fresh nonces, so a recorded handshake cannot be replayed, and the side that checks it
// learns that the other holds the secret without the secret crossing the wire.
// A wrong proof closes the link with a policy-violation close frame (1008) and counts a rejection;
// so does a failed TLS handshake (a wrong secret fails there, before any frame).
// Heartbeats {"t":"ping","ts":N} / {"t":"pong","ts":N} run on both sides and stay inside the
// link: a frame whose text starts with {"t":"ping" or {"t":"pong" is the link's own, never
// delivered. A link that has received nothing for heartbeat_timeout is closed; a closed TCP
// connection is seen at once.
#pragma once

#include "mesh/announcement.hpp"

#include <plume/core/task.hpp>
#include <plume/mesh/mesh.hpp>

#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace plume::transport {
class Server;
}

namespace plume::mesh {

struct PeerIdentity {
  std::string node;
  std::string instance;
  std::string address;  // host:port it listens on
};

class Link : public std::enable_shared_from_this<Link> {
 public:
  virtual ~Link() = default;
  const PeerIdentity& peer() const noexcept { return peer_; }
  bool dialed() const noexcept { return dialed_; }  // true: this node dialed the peer
  // Queues a frame (a JSON text) for sending; callable from any thread. Frames go out in order.
  // Returns false once the link is closing or closed (the frame is dropped). Never blocks.
  virtual bool send(std::string frame) = 0;
  // Closes the link gracefully, from any thread: frames already queued are written, then a
  // normal close frame carrying `reason`; the peer's closed handler sees "peer closed: <reason>".
  // handlers.closed runs once, on the link's executor, after the peer answered (bounded by
  // handshake_timeout).
  virtual void close(std::string_view reason) = 0;
  virtual bool open() const noexcept = 0;
  virtual boost::asio::any_io_executor executor() const = 0;
  // Round trip of the last heartbeat; zero before the first pong.
  virtual std::chrono::microseconds latency() const noexcept = 0;

 protected:
  PeerIdentity peer_;
  bool dialed_ = false;
};

// All three run on the link's executor: for links accepted by listen_for_links, the server I/O
// thread that accepted the connection; for dialed links, the executor given to dial_link, which
// must run one handler at a time (an io_context run by one thread, or a strand). Only
// established links reach these handlers: a failed dial throws, and a refused incoming handshake
// is logged (event=mesh_link_rejected) and counted, never reported. closed runs exactly once per
// established link, whatever ends it. Its reason is one of:
//   "closed: <reason>"               close() was called here
//   "peer closed: <reason>"          the peer closed the link (its close() reason, or the close code)
//   "peer disconnected"              the TCP connection ended without a close frame
//   "heartbeat timeout: nothing received for <N> ms"
//   "send queue over <N> bytes: the peer reads too slowly"
//   "frame over <N> bytes"           the peer sent a frame larger than max_frame
//   "server stopping"                the listening server stopped (accepted links)
//   "connection aborted"             the executor of a dialed link shut down
//   "connection error: <message>"
struct LinkHandlers {
  // An established link (handshake done), before any of its frames is delivered.
  std::function<void(const std::shared_ptr<Link>&)> established;
  // One received frame, in order; the view is valid during the call only.
  std::function<void(const std::shared_ptr<Link>&, std::string_view frame)> frame;
  std::function<void(const std::shared_ptr<Link>&, const std::string& reason)> closed;
};

struct LinkTls;

struct LinkSettings {
  std::string secret;
  PeerIdentity self;
  // Shared by all links of a node (make_link_tls); null: plaintext links.
  std::shared_ptr<LinkTls> tls;
  std::chrono::milliseconds heartbeat_interval{500};
  std::chrono::milliseconds heartbeat_timeout{2'000};
  std::chrono::milliseconds handshake_timeout{3'000};
  std::size_t max_frame = 64 * 1024 * 1024;  // bytes per received frame (WebSocket message)
  // Bytes queued by send() and not yet written; past it the link closes as too slow instead of
  // growing without limit.
  std::size_t max_queued_bytes = 64 * 1024 * 1024;
};

// Accepts links at /_mesh on the node's port (adds the route; call before server.start()).
void listen_for_links(transport::Server& server, LinkSettings settings, LinkHandlers handlers);

// Dials host:port/_mesh from `executor` (one handler at a time: see LinkHandlers) ("[v6]:port" for
// IPv6); completes with the established link or throws plume::Error: Unavailable (connection refused, connect
// or handshake timeout, protocol error), Forbidden (the TLS handshake failed or either side could not
// verify the other's proof: the secrets or the mesh.tls settings differ). The whole dial is bounded by
// settings.handshake_timeout. handlers.established has run when it returns.
Task<std::shared_ptr<Link>> dial_link(boost::asio::any_io_executor executor, std::string address,
                                      LinkSettings settings, LinkHandlers handlers);

// Handshakes this process refused (wrong proof, malformed or other-version handshake frames);
// for /metrics and mesh/nodes.
std::uint64_t rejected_handshakes() noexcept;

}  // namespace plume::mesh
