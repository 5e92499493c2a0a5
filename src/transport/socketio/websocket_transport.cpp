#include "transport/socketio/websocket_transport.hpp"

#include "net/websocket_banner.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/websocket/stream.hpp>

#include <deque>
#include <optional>

namespace plume::transport::socketio {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using asio::ip::tcp;
using namespace asio::experimental::awaitable_operators;

constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);
// Frames queued for a client that does not read are bounded like the polling outbox.
constexpr std::size_t kMaxQueuedBytes = 16 * 1024 * 1024;
// The closing handshake (and the opening one) must complete within this.
constexpr std::chrono::seconds kHandshakeTimeout{5};

using WebSocket = websocket::stream<tcp::socket&>;

// The write side of a WebSocket: frames from any thread, written in order by writer().
class Link final : public WebSocketLink, public std::enable_shared_from_this<Link> {
 public:
  explicit Link(asio::any_io_executor executor) : executor_(std::move(executor)), wake_(executor_) {}

  void send(std::string frame) override {
    asio::post(executor_, [self = shared_from_this(), frame = std::move(frame)]() mutable {
      if (self->closing_) return;
      self->queued_bytes_ += frame.size();
      if (self->queued_bytes_ > kMaxQueuedBytes) {
        spdlog::info("event=socketio_slow_client transport=websocket queued_bytes={}", self->queued_bytes_);
        self->queue_.clear();
        self->closing_ = true;
      } else {
        self->queue_.push_back(std::move(frame));
      }
      self->wake_.cancel();
    });
  }

  void close() override {
    asio::post(executor_, [self = shared_from_this()] { self->close_here(); });
  }

  // On the link's executor.
  void close_here() {
    closing_ = true;
    wake_.cancel();
  }
  bool closing() const noexcept { return closing_; }

  // Writes queued frames until closed, then the close frame.
  Task<void> writer(WebSocket& ws) {
    for (;;) {
      while (queue_.empty() && !closing_) {
        wake_.expires_at(asio::steady_timer::time_point::max());
        co_await wake_.async_wait(kUseTuple);
      }
      if (queue_.empty()) break;
      std::string frame = std::move(queue_.front());
      queue_.pop_front();
      queued_bytes_ -= frame.size();
      ws.text(true);
      auto [ec, n] = co_await ws.async_write(asio::buffer(frame), kUseTuple);
      if (ec) {
        closing_ = true;
        queue_.clear();
        co_return;
      }
    }
    if (ws.is_open()) co_await ws.async_close(websocket::close_code::normal, kUseTuple);
  }

 private:
  asio::any_io_executor executor_;
  asio::steady_timer wake_;
  std::deque<std::string> queue_;
  std::size_t queued_bytes_ = 0;
  bool closing_ = false;
};

struct ReaderState {
  std::weak_ptr<EngineSession> session;
  std::string sid;
  // The socket carries the session (direct, or after "5"); shared with the upgrade deadline.
  std::shared_ptr<bool> upgraded = std::make_shared<bool>(false);
};

Task<void> reader(WebSocket& ws, const std::shared_ptr<Link>& link, const ReaderState& state) {
  beast::flat_buffer buffer;
  std::string end_reason = "transport close";
  const std::shared_ptr<WebSocketLink> as_link = link;
  for (;;) {
    auto [ec, n] = co_await ws.async_read(buffer, kUseTuple);
    if (ec) {
      if (ec == websocket::error::message_too_big) {
        spdlog::info("event=socketio_protocol_error sid={} reason=\"message over maxPayload\"", state.sid);
        end_reason = "message over maxPayload";
      } else if (ec != websocket::error::closed) {
        end_reason = "transport error";
      }
      break;
    }
    if (!ws.got_text()) {
      buffer.consume(buffer.size());
      continue;  // binary frames carry attachments Feathers does not use
    }
    std::string frame = beast::buffers_to_string(buffer.data());
    buffer.consume(buffer.size());

    if (*state.upgraded) {
      auto session = state.session.lock();
      if (!session) break;
      auto executor = session->executor();
      auto receive = asio::co_spawn(executor, session->receive_frame(frame), asio::use_awaitable);
      co_await std::move(receive);
      continue;
    }
    // Probing (engine.io socket.ts maybeUpgrade): 2probe is answered 3probe, 5 completes the
    // upgrade, anything else abandons it.
    if (frame == "2probe") {
      link->send("3probe");
      if (auto session = state.session.lock()) {
        auto probe = run_on_session(std::move(session), [as_link](EngineSession& s) {
          s.probe(as_link);
          return true;
        });
        co_await std::move(probe);
      }
    } else if (frame == "5") {
      bool upgraded = false;
      if (auto session = state.session.lock()) {
        auto finish = run_on_session(std::move(session),
                                     [as_link](EngineSession& s) { return s.finish_upgrade(as_link); });
        upgraded = co_await std::move(finish);
      }
      *state.upgraded = upgraded;
      if (!*state.upgraded) break;
    } else {
      spdlog::info("event=socketio_upgrade_abandoned sid={} frame_bytes={}", state.sid, frame.size());
      break;
    }
  }
  link->close_here();
  bool upgraded = *state.upgraded;
  if (auto session = state.session.lock()) {
    auto end = run_on_session(std::move(session), [upgraded, as_link, end_reason](EngineSession& s) {
      if (upgraded) {
        s.close(end_reason);
      } else {
        s.end_probe(as_link);
      }
      return true;
    });
    co_await std::move(end);
  }
}

// Abandons a probe that has not completed within upgradeTimeout (engine.io upgradeTimeout).
Task<void> upgrade_deadline(std::shared_ptr<Link> link, std::chrono::milliseconds timeout,
                            std::shared_ptr<bool> upgraded) {
  asio::steady_timer timer(co_await asio::this_coro::executor, timeout);
  co_await timer.async_wait(kUseTuple);
  if (!*upgraded && !link->closing()) {
    spdlog::info("event=socketio_upgrade_timeout");
    link->close_here();
  }
}

}  // namespace

std::shared_ptr<WebSocketLink> make_websocket_link(asio::any_io_executor executor) {
  return std::make_shared<Link>(std::move(executor));
}

Task<void> serve_websocket(tcp::socket& socket, beast::flat_buffer& buffer, net::Request& request,
                           const EngineOptions& options, std::shared_ptr<WebSocketLink> link_base,
                           std::shared_ptr<EngineSession> upgrading, OpenWebSocketSession open) {
  auto link = std::static_pointer_cast<Link>(link_base);
  WebSocket ws(socket);
  ws.set_option(websocket::stream_base::timeout{kHandshakeTimeout, websocket::stream_base::none(), false});
  ws.set_option(net::without_version_banner());
  ws.read_message_max(options.max_payload);
  // A client sends nothing before the 101 (RFC 6455 4.1), so no bytes may follow the request.
  bool accepted = buffer.size() == 0;
  if (accepted) {
    auto [ec] = co_await ws.async_accept(request, kUseTuple);
    accepted = !ec;
  }
  if (!accepted) {
    link->close_here();
    if (upgrading) {
      auto end = run_on_session(std::move(upgrading), [link_base](EngineSession& s) {
        s.end_probe(link_base);
        return true;
      });
      co_await std::move(end);
    }
    co_return;
  }

  ReaderState state;
  if (!upgrading && !open) {
    link->close_here();
    co_await ws.async_close(websocket::close_code::going_away, kUseTuple);
    co_return;
  }
  if (upgrading) {
    state.session = upgrading;
    state.sid = upgrading->sid();
    upgrading.reset();
    asio::co_spawn(socket.get_executor(), upgrade_deadline(link, options.upgrade_timeout, state.upgraded),
                   asio::detached);
  } else {
    auto session = open(link_base);
    state.session = session;
    state.sid = session->sid();
    *state.upgraded = true;
  }
  auto both = reader(ws, link, state) && link->writer(ws);
  co_await std::move(both);
}

}  // namespace plume::transport::socketio
