// The running link: the send queue, the reader, the writer and the watchdog of an established
// WebSocketLink, and how it ends. The handshake is in link_handshake.cpp.
#include "mesh/websocket_link.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/websocket/error.hpp>

#include <algorithm>
#include <charconv>

namespace plume::mesh {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using namespace asio::experimental::awaitable_operators;

constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);
constexpr std::string_view kPingPrefix = R"({"t":"ping")";
constexpr std::string_view kPongPrefix = R"({"t":"pong")";

std::int64_t steady_micros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// The "ts" of a heartbeat frame written by a link: {"t":"ping","ts":N}.
std::optional<std::int64_t> heartbeat_ts(std::string_view frame) {
  constexpr std::string_view kKey = R"("ts":)";
  auto at = frame.find(kKey);
  if (at == std::string_view::npos) return std::nullopt;
  const char* begin = frame.data() + at + kKey.size();
  std::int64_t ts = 0;
  auto [end, ec] = std::from_chars(begin, frame.data() + frame.size(), ts);
  if (ec != std::errc()) return std::nullopt;
  return ts;
}

}  // namespace

std::atomic<std::uint64_t> rejected_handshake_count{0};

std::uint64_t rejected_handshakes() noexcept {
  return rejected_handshake_count.load(std::memory_order_relaxed);
}

void log_rejected_handshake(std::string_view remote, bool dialed, std::string_view why) {
  const auto count = rejected_handshake_count.fetch_add(1, std::memory_order_relaxed) + 1;
  if (count == 1 || count % 1000 == 0) {
    spdlog::warn("event=mesh_link_rejected peer={} dialed={} rejected={} why=\"{}\"", remote, dialed, count,
                 why);
  }
}

LinkIo::LinkIo(asio::ip::tcp::socket& session_socket, asio::ssl::context* tls)
    : socket(session_socket),
      ws(session_socket, tls),
      wake(session_socket.get_executor()),
      watchdog(session_socket.get_executor()) {}

LinkIo::LinkIo(const asio::any_io_executor& executor, asio::ssl::context* tls)
    : owned(std::in_place, executor),
      socket(*owned),
      ws(*owned, tls),
      wake(executor),
      watchdog(executor),
      resolver(std::in_place, executor) {}

WebSocketLink::WebSocketLink(asio::any_io_executor executor, LinkSettings settings, LinkHandlers handlers,
                             bool dialed, std::unique_ptr<LinkIo> io)
    : executor_(std::move(executor)),
      settings_(std::move(settings)),
      handlers_(std::move(handlers)),
      io_(std::move(io)) {
  dialed_ = dialed;
}

WebSocketLink::~WebSocketLink() = default;

bool WebSocketLink::send(std::string frame) {
  std::lock_guard lock(mutex_);
  if (!accepting_) return false;
  // Posting under the lock: finish() stops accepting under it before the link's coroutines
  // return, so nothing is posted to an executor whose io_context may be gone.
  if (queued_bytes_ + frame.size() > settings_.max_queued_bytes) {
    accepting_ = false;
    open_.store(false, std::memory_order_release);
    auto why =
        "send queue over " + std::to_string(settings_.max_queued_bytes) + " bytes: the peer reads too slowly";
    asio::post(executor_, [self = std::static_pointer_cast<WebSocketLink>(shared_from_this()),
                           why = std::move(why)]() mutable { self->abort(std::move(why)); });
    return false;
  }
  queued_bytes_ += frame.size();
  pending_.push_back(std::move(frame));
  if (writer_waiting_) {
    writer_waiting_ = false;
    asio::post(executor_, [self = std::static_pointer_cast<WebSocketLink>(shared_from_this())] {
      if (self->io_) self->io_->wake.cancel();
    });
  }
  return true;
}

void WebSocketLink::close(std::string_view reason) {
  std::lock_guard lock(mutex_);
  if (!accepting_) return;
  accepting_ = false;
  requested_close_ = std::string(reason);
  open_.store(false, std::memory_order_release);
  asio::post(executor_,
             [self = std::static_pointer_cast<WebSocketLink>(shared_from_this()),
              reason = std::string(reason)]() mutable { self->begin_graceful_close(std::move(reason)); });
}

void WebSocketLink::establish() {
  established_ = true;
  last_received_ = Clock::now();
  last_ping_ = Clock::time_point{};  // the first ping goes out at the first tick
  io_->ws.read_message_max(settings_.max_frame);
  {
    std::lock_guard lock(mutex_);
    accepting_ = true;
    open_.store(true, std::memory_order_release);
  }
  spdlog::info("event=mesh_link_up peer_node={} peer_instance={} peer_address={} dialed={}", peer_.node,
               peer_.instance, peer_.address, dialed_);
  if (handlers_.established) {
    try {
      handlers_.established(shared_from_this());
    } catch (const std::exception& e) {
      spdlog::error("event=mesh_link_handler_failed handler=established peer_node={} error=\"{}\"",
                    peer_.node, e.what());
    }
  }
}

Task<void> WebSocketLink::run() {
  // finish() runs however the coroutine ends, including the destruction of a suspended frame
  // when the executor shuts down with the link still open.
  struct Finish {
    WebSocketLink* link;
    ~Finish() { link->finish(); }
  } finish_guard{this};
  auto both = reader() && writer();
  co_await std::move(both);
}

Task<void> WebSocketLink::run_link(std::shared_ptr<WebSocketLink> self) {
  auto run = self->run();
  co_await std::move(run);
}

Task<void> WebSocketLink::reader() {
  auto& io = *io_;
  std::string why;
  for (;;) {
    // Chunks rather than whole messages: a large frame arriving slowly still shows the peer alive.
    auto [ec, n] = co_await io.ws.async_read_some(io.buffer, 0, kUseTuple);
    if (ec) {
      why = describe_read_error(ec);
      break;
    }
    last_received_ = Clock::now();
    if (!io.ws.is_message_done()) continue;
    if (io.ws.got_text() && !graceful_ && !aborted_) {
      auto data = io.buffer.data();
      on_frame(std::string_view(static_cast<const char*>(data.data()), data.size()));
    }
    io.buffer.consume(io.buffer.size());
    if (aborted_) break;
  }
  abort(std::move(why));
}

std::string WebSocketLink::describe_read_error(const beast::error_code& ec) const {
  // A close frame came (Beast answers it and tears the connection down; the teardown itself
  // may fail when the peer has already gone).
  const auto& close = io_->ws.reason();
  if (ec == websocket::error::closed || close.code != websocket::close_code::none) {
    if (!close.reason.empty()) return "peer closed: " + std::string(close.reason.c_str());
    return "peer closed: code " + std::to_string(close.code);
  }
  if (ec == websocket::error::message_too_big) {
    return "frame over " + std::to_string(settings_.max_frame) + " bytes";
  }
  // stream_truncated: the TCP connection ended inside TLS, without TLS's close_notify.
  if (ec == asio::error::eof || ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
      ec == asio::error::connection_aborted || ec == asio::error::not_connected ||
      ec == asio::ssl::error::stream_truncated) {
    return "peer disconnected";
  }
  if (ec == asio::error::operation_aborted || ec == asio::error::bad_descriptor) return ended_elsewhere();
  return "connection error: " + ec.message();
}

std::string WebSocketLink::ended_elsewhere() const {
  // Nobody here asked (that would have set the reason first): the server's stop closed the
  // session's socket, or the dialer's executor is shutting down.
  return dialed_ ? "connection aborted" : "server stopping";
}

void WebSocketLink::on_frame(std::string_view frame) {
  if (frame.starts_with(kPingPrefix)) {
    std::string pong(frame);
    pong.replace(0, kPongPrefix.size(), kPongPrefix);
    send(std::move(pong));
    return;
  }
  if (frame.starts_with(kPongPrefix)) {
    if (auto ts = heartbeat_ts(frame)) {
      latency_us_.store(std::max<std::int64_t>(steady_micros() - *ts, 1), std::memory_order_relaxed);
    }
    return;
  }
  if (!handlers_.frame) return;
  try {
    handlers_.frame(shared_from_this(), frame);
  } catch (const std::exception& e) {
    spdlog::error("event=mesh_link_handler_failed handler=frame peer_node={} error=\"{}\"", peer_.node,
                  e.what());
  }
}

Task<void> WebSocketLink::writer() {
  auto& io = *io_;
  std::vector<std::string> batch;
  while (!aborted_) {
    {
      std::lock_guard lock(mutex_);
      if (pending_.empty()) {
        if (!accepting_) break;  // closing: everything queued has been written
        writer_waiting_ = true;
      } else {
        batch.swap(pending_);
      }
    }
    if (batch.empty()) {
      io.wake.expires_at(Clock::time_point::max());
      co_await io.wake.async_wait(kUseTuple);
      continue;
    }
    // Beast writes one message per operation; the batch at least costs one wake-up and no
    // coroutine per frame.
    std::size_t written = 0;
    for (auto& frame : batch) {
      if (aborted_) break;
      auto [ec, n] = co_await io.ws.async_write(asio::buffer(frame), kUseTuple);
      if (ec) {
        abort(describe_read_error(ec));
        break;
      }
      written += frame.size();
    }
    batch.clear();
    std::lock_guard lock(mutex_);
    queued_bytes_ -= std::min(written, queued_bytes_);
  }
  if (!graceful_ && !aborted_) {
    std::optional<std::string> requested;
    {
      std::lock_guard lock(mutex_);
      requested = requested_close_;
    }
    if (requested) begin_graceful_close(std::move(*requested));
  }
  if (graceful_ && !aborted_) {
    // The reader sees the peer's answering close frame and ends the link; the watchdog bounds
    // the wait.
    auto close =
        io.ws.async_close(websocket::close_reason(websocket::close_code::normal, close_reason_), kUseTuple);
    auto [ec] = co_await std::move(close);
    if (ec && !aborted_) abort("connection error: " + ec.message());
  }
}

Task<void> WebSocketLink::watchdog(std::shared_ptr<WebSocketLink> self) {
  using std::chrono::milliseconds;
  const auto& s = self->settings_;
  auto tick = std::min({s.heartbeat_interval, s.heartbeat_timeout / 4, s.handshake_timeout / 4});
  tick = std::clamp<milliseconds>(tick, milliseconds(5), milliseconds(250));
  while (!self->ended_) {
    self->io_->watchdog.expires_after(tick);
    co_await self->io_->watchdog.async_wait(kUseTuple);
    if (self->ended_) co_return;
    if (self->aborted_) continue;  // ending: finish() comes once the reader and writer return
    auto now = Clock::now();
    if (!self->established_ || self->graceful_) {
      if (now >= self->deadline_) {
        self->abort(self->established_
                        ? "close handshake timeout"
                        : "handshake timeout after " + std::to_string(s.handshake_timeout.count()) + " ms");
      }
      continue;
    }
    auto silent = std::chrono::duration_cast<milliseconds>(now - self->last_received_);
    if (silent >= s.heartbeat_timeout) {
      self->abort("heartbeat timeout: nothing received for " + std::to_string(silent.count()) + " ms");
      continue;
    }
    if (now - self->last_ping_ >= s.heartbeat_interval) {
      self->last_ping_ = now;
      self->send(std::string(kPingPrefix) + ",\"ts\":" + std::to_string(steady_micros()) + "}");
    }
  }
}

void WebSocketLink::set_reason(std::string reason) {
  if (reason_.empty()) reason_ = std::move(reason);
}

void WebSocketLink::stop_accepting() {
  std::lock_guard lock(mutex_);
  accepting_ = false;
  open_.store(false, std::memory_order_release);
  writer_waiting_ = false;
  pending_.clear();
}

void WebSocketLink::abort(std::string reason) {
  set_reason(std::move(reason));
  if (aborted_) return;
  aborted_ = true;
  stop_accepting();
  if (!io_) return;
  beast::error_code ignored;
  io_->wake.cancel();
  if (io_->resolver) io_->resolver->cancel();
  // Closing the socket ends every pending read and write at once. An accepted link's socket is
  // the session's: the session finds it closed and ends.
  io_->socket.close(ignored);
}

void WebSocketLink::begin_graceful_close(std::string reason) {
  if (aborted_ || graceful_ || !io_) return;
  graceful_ = true;
  set_reason("closed: " + reason);
  // A close frame's reason is at most 123 bytes (RFC 6455 5.5.1).
  close_reason_ = reason.substr(0, 123);
  deadline_ = Clock::now() + settings_.handshake_timeout;
  io_->wake.cancel();
}

void WebSocketLink::finish() {
  if (ended_) return;
  ended_ = true;
  aborted_ = true;
  stop_accepting();
  if (io_) {
    beast::error_code ignored;
    if (io_->owned) io_->owned->close(ignored);
    io_.reset();
  }
  if (!established_) return;
  set_reason(ended_elsewhere());  // the frame of a suspended link destroyed with its executor
  spdlog::info("event=mesh_link_down peer_node={} peer_instance={} peer_address={} dialed={} reason=\"{}\"",
               peer_.node, peer_.instance, peer_.address, dialed_, reason_);
  auto closed = std::move(handlers_.closed);
  handlers_ = {};  // handlers often hold the link: let it go
  if (!closed) return;
  try {
    closed(shared_from_this(), reason_);
  } catch (const std::exception& e) {
    spdlog::error("event=mesh_link_handler_failed handler=closed peer_node={} error=\"{}\"", peer_.node,
                  e.what());
  }
}

}  // namespace plume::mesh
