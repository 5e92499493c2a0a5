#include "transport/socketio/engineio_session.hpp"

#include "transport/socketio/session_registry.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace plume::transport::socketio {
namespace {

namespace asio = boost::asio;
constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);

// Packets queued for a client that does not poll are bounded: past this the session closes
// rather than let one slow client hold the server's memory.
constexpr std::size_t kMaxBufferedBytes = 16 * 1024 * 1024;

}  // namespace

std::string_view engine_error_message(EngineError error) noexcept {
  switch (error) {
    case EngineError::TransportUnknown:
      return "Transport unknown";
    case EngineError::UnknownSid:
      return "Session ID unknown";
    case EngineError::BadHandshakeMethod:
      return "Bad handshake method";
    case EngineError::BadRequest:
      return "Bad request";
    case EngineError::Forbidden:
      return "Forbidden";
    case EngineError::UnsupportedProtocolVersion:
      return "Unsupported protocol version";
  }
  return "Bad request";
}

EngineSession::EngineSession(SessionRegistry& registry, Executor executor, EngineOptions options,
                             JsonObject headers)
    : registry_(registry),
      executor_(std::move(executor)),
      options_(options),
      headers_(std::move(headers)),
      sid_(random_session_id()),
      poll_timer_(executor_),
      heartbeat_timer_(executor_) {}

void EngineSession::open(std::shared_ptr<EngineSessionHandler> handler, std::shared_ptr<WebSocketLink> link) {
  handler_ = std::move(handler);
  link_ = std::move(link);
  registry_.add(shared_from_this());
  if (link_) link_->send(open_packet(false));
  asio::co_spawn(executor_, heartbeat(), asio::detached);
}

std::string EngineSession::open_packet(bool can_upgrade) const {
  // Key order as engine.io writes it (captured).
  std::string packet = "0{\"sid\":\"" + sid_ + "\",\"upgrades\":";
  packet += can_upgrade ? "[\"websocket\"]" : "[]";
  packet += ",\"pingInterval\":" + std::to_string(options_.ping_interval.count());
  packet += ",\"pingTimeout\":" + std::to_string(options_.ping_timeout.count());
  packet += ",\"maxPayload\":" + std::to_string(options_.max_payload) + "}";
  return packet;
}

void EngineSession::send_message(std::string_view payload) {
  send_packet(encode_engine_packet(EnginePacketType::Message, payload));
}

void EngineSession::send_packet(std::string encoded) {
  if (closed_) return;
  if (link_) {
    link_->send(std::move(encoded));
    return;
  }
  outbox_bytes_ += encoded.size();
  outbox_.push_back(std::move(encoded));
  if (outbox_bytes_ > kMaxBufferedBytes) {
    spdlog::info("event=socketio_slow_client sid={} buffered_bytes={}", sid_, outbox_bytes_);
    outbox_.clear();
    outbox_bytes_ = 0;
    close("send buffer full");
    return;
  }
  poll_timer_.cancel();
}

void EngineSession::close(std::string_view reason) {
  if (closed_) return;
  closed_ = true;
  closed_flag_.store(true, std::memory_order_release);
  spdlog::debug("event=socketio_session_closed sid={} reason=\"{}\"", sid_, reason);
  registry_.remove(sid_);
  heartbeat_timer_.cancel();
  if (link_) link_->close();
  if (probe_link_) probe_link_->close();
  probe_link_.reset();
  // A parked poll answers with the close packet (engine.io polling doClose).
  if (!link_) {
    outbox_.push_back(encode_engine_packet(EnginePacketType::Close));
    poll_timer_.cancel();
  }
  if (auto handler = std::move(handler_)) handler->on_close(reason);
}

Task<EngineSession::PollResult> EngineSession::poll() {
  auto self = shared_from_this();
  if (link_) co_return PollResult{PollResult::Kind::Upgraded, {}};
  if (polling_) {
    spdlog::info("event=socketio_protocol_error sid={} reason=\"overlap from client\"", sid_);
    close("overlap from client");
    co_return PollResult{PollResult::Kind::Overlap, {}};
  }
  polling_ = true;
  // A GET that arrives after "2probe" (the client had not read "3probe" yet) is answered at
  // once: the client's upgrade waits for it to return (engine.io socket.ts maybeUpgrade
  // flushes a polling transport that is writable with a noop while the probe runs).
  if (probed_ && outbox_.empty() && !closed_) outbox_.push_back(encode_engine_packet(EnginePacketType::Noop));
  while (outbox_.empty() && !closed_) {
    poll_timer_.expires_at(asio::steady_timer::time_point::max());
    co_await poll_timer_.async_wait(kUseTuple);
  }
  polling_ = false;
  PollResult result;
  result.body = join_engine_packets(std::vector<std::string>(outbox_.begin(), outbox_.end()));
  outbox_.clear();
  outbox_bytes_ = 0;
  co_return result;
}

Task<bool> EngineSession::receive_payload(const std::string& body) {
  auto self = shared_from_this();
  if (link_) co_return false;
  auto packets = parse_engine_payload(body);
  if (!packets) {
    spdlog::info("event=socketio_protocol_error sid={} reason=\"parse error\" transport=polling", sid_);
    close("parse error");
    co_return true;
  }
  for (const auto& packet : *packets) {
    if (closed_) break;
    co_await handle_packet(packet);
  }
  co_return true;
}

Task<void> EngineSession::receive_frame(const std::string& frame) {
  auto self = shared_from_this();
  auto packet = parse_engine_packet(frame);
  if (!packet) {
    spdlog::info("event=socketio_protocol_error sid={} reason=\"parse error\" transport=websocket", sid_);
    close("parse error");
    co_return;
  }
  co_await handle_packet(*packet);
}

Task<void> EngineSession::handle_packet(const EnginePacket& packet) {
  if (closed_) co_return;
  // Incoming data shows the client is alive: it refreshes a pending pong deadline, once
  // (engine.io socket.ts onPacket).
  if (awaiting_pong_ && !pong_deadline_refreshed_ && packet.type != EnginePacketType::Pong) {
    pong_deadline_refreshed_ = true;
    heartbeat_timer_.expires_after(options_.ping_timeout);
  }
  switch (packet.type) {
    case EnginePacketType::Close:
      close("transport close");
      break;
    case EnginePacketType::Ping:
      // Engine.IO v4 heartbeats go server to client; a client ping is a protocol error.
      spdlog::info("event=socketio_protocol_error sid={} reason=\"invalid heartbeat direction\"", sid_);
      close("invalid heartbeat direction");
      break;
    case EnginePacketType::Pong:
      if (awaiting_pong_) {
        awaiting_pong_ = false;
        heartbeat_timer_.cancel();
      }
      break;
    case EnginePacketType::Message:
      if (packet.binary) {
        // Feathers speaks JSON; binary attachments are dropped.
        spdlog::debug("event=socketio_binary_dropped sid={}", sid_);
        break;
      }
      if (handler_) {
        auto handler = handler_;
        co_await handler->on_message(packet.data);
      }
      break;
    case EnginePacketType::Open:
    case EnginePacketType::Upgrade:
    case EnginePacketType::Noop:
      break;  // engine.io ignores these outside an upgrade
  }
}

Task<void> EngineSession::heartbeat() {
  auto self = shared_from_this();
  while (!closed_) {
    heartbeat_timer_.expires_after(options_.ping_interval);
    co_await heartbeat_timer_.async_wait(kUseTuple);
    if (closed_) co_return;
    awaiting_pong_ = true;
    pong_deadline_refreshed_ = false;
    send_packet(encode_engine_packet(EnginePacketType::Ping));
    heartbeat_timer_.expires_after(options_.ping_timeout);
    for (;;) {
      auto [ec] = co_await heartbeat_timer_.async_wait(kUseTuple);
      if (closed_) co_return;
      if (!awaiting_pong_) break;  // the pong cancelled the wait
      if (ec) continue;            // the deadline moved (data arrived): wait for the new one
      close("ping timeout");
      co_return;
    }
  }
}

bool EngineSession::begin_probe(std::shared_ptr<WebSocketLink> link) {
  if (closed_ || link_ || probe_link_) return false;
  probe_link_ = std::move(link);
  return true;
}

void EngineSession::probe(const std::shared_ptr<WebSocketLink>& link) {
  if (closed_ || probe_link_ != link) return;
  probed_ = true;
  if (polling_) send_packet(encode_engine_packet(EnginePacketType::Noop));
}

bool EngineSession::finish_upgrade(const std::shared_ptr<WebSocketLink>& link) {
  if (closed_ || probe_link_ != link) return false;
  link_ = std::move(probe_link_);
  probe_link_.reset();
  probed_ = false;
  for (auto& packet : outbox_) link_->send(std::move(packet));
  outbox_.clear();
  outbox_bytes_ = 0;
  if (polling_) {
    // A poll still parked ends with a noop; later ones are refused.
    outbox_.push_back(encode_engine_packet(EnginePacketType::Noop));
    poll_timer_.cancel();
  }
  return true;
}

void EngineSession::end_probe(const std::shared_ptr<WebSocketLink>& link) {
  if (probe_link_ != link) return;
  probe_link_.reset();
  probed_ = false;
}

}  // namespace plume::transport::socketio
