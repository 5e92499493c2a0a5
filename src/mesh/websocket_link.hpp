// The Link over a Beast WebSocket (inside TLS unless mesh.tls is off): the handshake of link.hpp,
// a writer that drains the send queue,
// a reader that delivers frames, and a watchdog that bounds the handshake and the closing
// handshake and runs the heartbeats. Everything but send(), close(), open() and latency() runs on
// the link's executor (one handler at a time: a server I/O thread, or the dialer's single-threaded executor).
#pragma once

#include "mesh/link.hpp"
#include "net/http_types.hpp"
#include "net/tls_stream.hpp"

#include <plume/core/json.hpp>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket/stream.hpp>

#include <atomic>
#include <mutex>
#include <optional>
#include <vector>

namespace plume::mesh {

// The I/O objects of a link. They live only while the link runs and are destroyed on its
// executor when it ends, so none outlives the io_context behind it (an accepted link's socket
// belongs to the server's session, which closes and destroys it).
struct LinkIo {
  // An accepted connection: the session's socket. With `tls` the WebSocket runs inside TLS.
  LinkIo(boost::asio::ip::tcp::socket& session_socket, boost::asio::ssl::context* tls);
  // A dialed connection: a socket of its own.
  LinkIo(const boost::asio::any_io_executor& executor, boost::asio::ssl::context* tls);

  std::optional<boost::asio::ip::tcp::socket> owned;
  boost::asio::ip::tcp::socket& socket;
  boost::beast::websocket::stream<net::PlainOrTlsStream> ws;
  boost::beast::flat_buffer buffer;
  boost::asio::steady_timer wake;                          // the writer waits on it for frames
  boost::asio::steady_timer watchdog;                      // ticks for deadlines and heartbeats
  std::optional<boost::asio::ip::tcp::resolver> resolver;  // dialed links
};

// Counted by rejected_handshakes().
extern std::atomic<std::uint64_t> rejected_handshake_count;
// Counts a refused handshake and logs it: the first one and then every thousandth, so that a
// foreign cluster or a scanner cannot flood the log.
void log_rejected_handshake(std::string_view remote, bool dialed, std::string_view why);

class WebSocketLink final : public Link {
 public:
  WebSocketLink(boost::asio::any_io_executor executor, LinkSettings settings, LinkHandlers handlers,
                bool dialed, std::unique_ptr<LinkIo> io);
  ~WebSocketLink() override;

  bool send(std::string frame) override;
  void close(std::string_view reason) override;
  bool open() const noexcept override { return open_.load(std::memory_order_acquire); }
  boost::asio::any_io_executor executor() const override { return executor_; }
  std::chrono::microseconds latency() const noexcept override {
    return std::chrono::microseconds(latency_us_.load(std::memory_order_relaxed));
  }

  // The listener side: the WebSocket accept, the handshake, then the link until it ends.
  Task<void> serve(net::Request& request, std::string remote);
  // The dialer side: connect and handshake; throws plume::Error on failure. On success the link
  // runs on in a coroutine of its own.
  Task<void> dial(std::string address);

 private:
  using Clock = std::chrono::steady_clock;
  // Handshake pieces (link_handshake.cpp).
  struct HandshakeRead {
    std::optional<JsonObject> frame;
    std::string error;             // why there is no frame
    bool malformed = false;        // a frame came, not the expected one: a protocol violation
    std::uint16_t peer_close = 0;  // the close code, when the peer closed instead
  };
  Task<bool> write_text(std::string text);
  Task<HandshakeRead> read_handshake_frame(std::string_view expected_type);
  // Counts and logs a refused handshake and closes with a policy-violation close frame.
  Task<void> refuse(std::string_view remote, std::string why);
  // The TLS handshake of a link whose stream is TLS. A failure the peer caused (OpenSSL refused
  // its handshake: another secret, an unknown CA) is counted and logged as a refused handshake.
  struct TlsOutcome {
    std::string error;  // empty: the session is up and binding_ is set
    bool refused = false;
  };
  Task<TlsOutcome> tls_handshake(std::string_view remote);
  std::string dial_proof(std::string_view listener_nonce, std::string_view dialer_nonce,
                         std::string_view dialer_instance) const;
  std::string listen_proof(std::string_view dialer_nonce, std::string_view listener_nonce,
                           std::string_view listener_instance) const;

  void establish();
  Task<void> run();
  static Task<void> run_link(std::shared_ptr<WebSocketLink> self);
  Task<void> reader();
  Task<void> writer();
  static Task<void> watchdog(std::shared_ptr<WebSocketLink> self);
  void on_frame(std::string_view frame);
  std::string describe_read_error(const boost::beast::error_code& ec) const;
  std::string ended_elsewhere() const;
  // Ends the link now: no more frames either way, the socket closed. The first reason wins.
  void abort(std::string reason);
  void begin_graceful_close(std::string reason);
  void set_reason(std::string reason);
  void stop_accepting();
  // Ends the link once: the I/O objects go, and an established link runs handlers.closed.
  void finish();

  boost::asio::any_io_executor executor_;
  LinkSettings settings_;
  LinkHandlers handlers_;
  std::unique_ptr<LinkIo> io_;

  // Executor-side state.
  std::string binding_;  // the TLS session's exported keying material, in every proof
  bool established_ = false;
  bool graceful_ = false;  // close() asked: flush, then a close frame
  bool aborted_ = false;   // ended: nothing more is read or written
  bool ended_ = false;     // finished: closed has run, io_ is gone
  std::string reason_;
  std::string close_reason_;    // sent in our close frame
  Clock::time_point deadline_;  // of the handshake, then of the closing handshake
  Clock::time_point last_received_;
  Clock::time_point last_ping_;

  // Shared with send() and close() on other threads.
  std::mutex mutex_;
  bool accepting_ = false;
  // close() was called with this reason; the writer may see !accepting_ before the posted
  // begin_graceful_close runs, and must still end with a close frame.
  std::optional<std::string> requested_close_;
  bool writer_waiting_ = false;
  std::vector<std::string> pending_;
  std::size_t queued_bytes_ = 0;
  std::atomic<bool> open_{false};
  std::atomic<std::int64_t> latency_us_{0};
};

}  // namespace plume::mesh
