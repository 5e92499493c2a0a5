// Opening a link: the /_mesh route that accepts WebSocket upgrades, the dialer, and the
// challenge / hello / welcome exchange of link.hpp in which each side proves the cluster secret.
#include "mesh/websocket_link.hpp"
#include "net/websocket_banner.hpp"
#include "transport/server_routes.hpp"

#include <plume/core/error.hpp>

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/websocket/error.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

namespace plume::mesh {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using asio::ip::tcp;

constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);
// Handshake frames are a few hundred bytes; nobody unauthenticated may make us buffer more.
constexpr std::size_t kHandshakeFrameMax = 16 * 1024;
// Beast's default is 4 KiB, which splits a large masked frame into many small socket writes.
constexpr std::size_t kWriteBufferBytes = 64 * 1024;

std::string field(const JsonObject& object, std::string_view key) {
  auto it = object.find(key);
  if (it == object.end() || !it->value().is_string()) return {};
  return std::string(it->value().get_string());
}

bool has_version(const JsonObject& object) {
  auto it = object.find("v");
  return it != object.end() && it->value().is_int64() && it->value().get_int64() == kProtocolVersion;
}

std::string dial_proof(std::string_view secret, std::string_view listener_nonce,
                       std::string_view dialer_nonce, std::string_view dialer_instance) {
  return hmac_hex(secret, "dial|" + std::string(listener_nonce) + "|" + std::string(dialer_nonce) + "|" +
                              std::string(dialer_instance));
}

std::string listen_proof(std::string_view secret, std::string_view dialer_nonce,
                         std::string_view listener_nonce, std::string_view listener_instance) {
  return hmac_hex(secret, "listen|" + std::string(dialer_nonce) + "|" + std::string(listener_nonce) + "|" +
                              std::string(listener_instance));
}

// "host:port" or "[v6]:port".
std::optional<std::pair<std::string, std::string>> split_address(std::string_view address) {
  auto colon = address.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == address.size()) return std::nullopt;
  auto host = address.substr(0, colon);
  auto port = address.substr(colon + 1);
  if (host.front() == '[') {
    if (host.size() < 3 || host.back() != ']') return std::nullopt;
    host = host.substr(1, host.size() - 2);
  }
  if (port.find_first_not_of("0123456789") != std::string_view::npos) return std::nullopt;
  return std::pair{std::string(host), std::string(port)};
}

void configure(websocket::stream<tcp::socket&>& ws, const LinkSettings& settings) {
  // Beast's own timeout bounds the opening and closing handshakes; liveness after that is the
  // heartbeats' job.
  ws.set_option(
      websocket::stream_base::timeout{settings.handshake_timeout, websocket::stream_base::none(), false});
  ws.set_option(net::without_version_banner());  // the accepting side's 101
  ws.read_message_max(kHandshakeFrameMax);
  ws.write_buffer_bytes(kWriteBufferBytes);
  ws.auto_fragment(false);
  ws.text(true);
}

struct Listener {
  LinkSettings settings;
  LinkHandlers handlers;
};

Task<void> serve_link(std::shared_ptr<const Listener> listener, tcp::socket& socket,
                      beast::flat_buffer& buffer, net::Request& request, std::string remote) {
  // A client sends nothing before the 101 (RFC 6455 4.1), so no bytes may follow the request.
  if (buffer.size() != 0) {
    spdlog::info("event=mesh_link_handshake_failed peer={} why=\"data before the upgrade completed\"",
                 remote);
    co_return;
  }
  auto link = std::make_shared<WebSocketLink>(socket.get_executor(), listener->settings, listener->handlers,
                                              false, std::make_unique<LinkIo>(socket));
  auto serve = link->serve(request, std::move(remote));
  co_await std::move(serve);
}

Task<net::Response> accept_link(std::shared_ptr<const Listener> listener, net::Request& request,
                                std::string remote) {
  if (!websocket::is_upgrade(request)) {
    co_return net::error_response(Error(ErrorCode::BadRequest,
                                        "/_mesh is the mesh's WebSocket between nodes; open it with a "
                                        "WebSocket upgrade (GET with Upgrade: websocket)"),
                                  request.version(), request.keep_alive());
  }
  co_return net::Upgrade{[listener = std::move(listener), remote = std::move(remote)](
                             tcp::socket& socket, beast::flat_buffer& buffer, net::Request& upgrade_request) {
    return serve_link(listener, socket, buffer, upgrade_request, remote);
  }};
}

}  // namespace

Task<bool> WebSocketLink::write_text(std::string text) {
  auto [ec, n] = co_await io_->ws.async_write(asio::buffer(text), kUseTuple);
  co_return !ec;
}

Task<WebSocketLink::HandshakeRead> WebSocketLink::read_handshake_frame(std::string_view expected_type) {
  HandshakeRead read;
  auto& io = *io_;
  auto [ec, n] = co_await io.ws.async_read(io.buffer, kUseTuple);
  if (ec) {
    // The close frame counts even when the teardown after it failed (the peer hung up first).
    read.peer_close = io.ws.reason().code;
    read.error = !reason_.empty() ? reason_ : ec.message();
    co_return read;
  }
  auto data = io.buffer.data();
  std::string_view text(static_cast<const char*>(data.data()), data.size());
  try {
    Json json = parse_json(text);
    if (json.is_object() && field(json.get_object(), "t") == expected_type) {
      read.frame = std::move(json.get_object());
    }
  } catch (const Error&) {
  }
  io.buffer.consume(io.buffer.size());
  if (!read.frame) {
    read.malformed = true;
    read.error = "expected a " + std::string(expected_type) + " frame";
  }
  co_return read;
}

Task<void> WebSocketLink::refuse(std::string_view remote, std::string why) {
  rejected_handshake_count.fetch_add(1, std::memory_order_relaxed);
  spdlog::warn("event=mesh_link_rejected peer={} dialed={} why=\"{}\"", remote, dialed_, why);
  set_reason("handshake rejected: " + why);
  auto close = io_->ws.async_close(
      websocket::close_reason(websocket::close_code::policy_error, "handshake rejected"), kUseTuple);
  [[maybe_unused]] auto [ignored] =
      co_await std::move(close);  // a peer that does not answer is cut off by the watchdog
}

Task<void> WebSocketLink::serve(net::Request& request, std::string remote) {
  auto self = std::static_pointer_cast<WebSocketLink>(shared_from_this());
  deadline_ = Clock::now() + settings_.handshake_timeout;
  asio::co_spawn(executor_, watchdog(self), asio::detached);
  auto& io = *io_;
  beast::error_code ignored;
  io.socket.set_option(tcp::no_delay(true), ignored);
  configure(io.ws, settings_);

  auto [accept_error] = co_await io.ws.async_accept(request, kUseTuple);
  if (accept_error) {
    spdlog::info("event=mesh_link_handshake_failed peer={} why=\"upgrade: {}\"", remote,
                 accept_error.message());
    finish();
    co_return;
  }
  const std::string nonce = random_hex();
  auto challenge = write_text(to_json_text(JsonObject{{"t", "challenge"},
                                                      {"v", kProtocolVersion},
                                                      {"node", settings_.self.node},
                                                      {"instance", settings_.self.instance},
                                                      {"nonce", nonce}}));
  bool written = co_await std::move(challenge);
  HandshakeRead hello;
  if (written) {
    auto read = read_handshake_frame("hello");
    hello = co_await std::move(read);
  } else {
    hello.error = "connection lost";
  }
  if (!hello.frame) {
    if (hello.malformed) {
      auto op = refuse(remote, hello.error);
      co_await std::move(op);
    } else {
      spdlog::info("event=mesh_link_handshake_failed peer={} why=\"{}\"", remote, hello.error);
    }
    finish();
    co_return;
  }
  const auto& h = *hello.frame;
  PeerIdentity peer{field(h, "node"), field(h, "instance"), field(h, "address")};
  const std::string dialer_nonce = field(h, "nonce");
  std::string why;
  if (!has_version(h)) {
    why = "protocol version differs (this node speaks " + std::to_string(kProtocolVersion) + ")";
  } else if (peer.node.empty() || peer.instance.empty() || dialer_nonce.empty()) {
    why = "hello without node, instance or nonce";
  } else if (!equal_constant_time(field(h, "proof"),
                                  dial_proof(settings_.secret, nonce, dialer_nonce, peer.instance))) {
    why = "wrong proof of the cluster secret from node " + peer.node;
  }
  if (!why.empty()) {
    auto op = refuse(remote, std::move(why));
    co_await std::move(op);
    finish();
    co_return;
  }
  auto welcome = write_text(to_json_text(
      JsonObject{{"t", "welcome"},
                 {"proof", listen_proof(settings_.secret, dialer_nonce, nonce, settings_.self.instance)}}));
  if (!co_await std::move(welcome)) {
    finish();
    co_return;
  }
  peer_ = std::move(peer);
  establish();
  auto run_op = run();
  co_await std::move(run_op);
}

Task<void> WebSocketLink::dial(std::string address) {
  auto self = std::static_pointer_cast<WebSocketLink>(shared_from_this());
  auto failed = [&](ErrorCode code, std::string what) {
    finish();
    return Error(code, "Mesh link to " + address + " failed: " + what);
  };
  auto host_port = split_address(address);
  if (!host_port) throw failed(ErrorCode::BadRequest, "the address is not host:port");
  deadline_ = Clock::now() + settings_.handshake_timeout;
  asio::co_spawn(executor_, watchdog(self), asio::detached);
  auto& io = *io_;
  // A failed step reports the watchdog's reason (the handshake timeout) when it caused it.
  auto cause = [&](const beast::error_code& ec) { return !reason_.empty() ? reason_ : ec.message(); };

  auto [resolve_error, endpoints] =
      co_await io.resolver->async_resolve(host_port->first, host_port->second, kUseTuple);
  if (resolve_error) throw failed(ErrorCode::Unavailable, "resolve: " + cause(resolve_error));
  auto [connect_error, endpoint] = co_await asio::async_connect(io.socket, endpoints, kUseTuple);
  if (connect_error) throw failed(ErrorCode::Unavailable, "connect: " + cause(connect_error));
  beast::error_code ignored;
  io.socket.set_option(tcp::no_delay(true), ignored);
  configure(io.ws, settings_);
  auto [upgrade_error] = co_await io.ws.async_handshake(address, "/_mesh", kUseTuple);
  if (upgrade_error) throw failed(ErrorCode::Unavailable, "WebSocket upgrade: " + cause(upgrade_error));

  auto read_challenge = read_handshake_frame("challenge");
  HandshakeRead challenge = co_await std::move(read_challenge);
  if (!challenge.frame) {
    if (challenge.malformed) {
      auto op = refuse(address, challenge.error);
      co_await std::move(op);
    }
    throw failed(ErrorCode::Unavailable, "handshake: " + challenge.error);
  }
  const auto& c = *challenge.frame;
  PeerIdentity peer{field(c, "node"), field(c, "instance"), address};
  const std::string listener_nonce = field(c, "nonce");
  std::string why;
  if (!has_version(c)) {
    why = "protocol version differs (this node speaks " + std::to_string(kProtocolVersion) + ")";
  } else if (peer.node.empty() || peer.instance.empty() || listener_nonce.empty()) {
    why = "challenge without node, instance or nonce";
  }
  if (!why.empty()) {
    auto op = refuse(address, why);
    co_await std::move(op);
    throw failed(ErrorCode::Unavailable, why);
  }
  if (peer.instance == settings_.self.instance) {
    auto op = io.ws.async_close(websocket::close_reason(websocket::close_code::normal, "self"), kUseTuple);
    co_await std::move(op);
    throw failed(ErrorCode::BadRequest, "the address is this node's own");
  }

  const std::string nonce = random_hex();
  auto hello = write_text(to_json_text(
      JsonObject{{"t", "hello"},
                 {"v", kProtocolVersion},
                 {"node", settings_.self.node},
                 {"instance", settings_.self.instance},
                 {"address", settings_.self.address},
                 {"nonce", nonce},
                 {"proof", dial_proof(settings_.secret, listener_nonce, nonce, settings_.self.instance)}}));
  if (!co_await std::move(hello)) throw failed(ErrorCode::Unavailable, "handshake: connection lost");

  auto read_welcome = read_handshake_frame("welcome");
  HandshakeRead welcome = co_await std::move(read_welcome);
  if (!welcome.frame) {
    if (welcome.peer_close == websocket::close_code::policy_error) {
      throw failed(ErrorCode::Forbidden,
                   "the peer refused the handshake; check that both nodes have the same mesh.secret");
    }
    if (welcome.malformed) {
      auto op = refuse(address, welcome.error);
      co_await std::move(op);
    }
    throw failed(ErrorCode::Unavailable, "handshake: " + welcome.error);
  }
  if (!equal_constant_time(field(*welcome.frame, "proof"),
                           listen_proof(settings_.secret, nonce, listener_nonce, peer.instance))) {
    auto op = refuse(address, "wrong proof of the cluster secret from node " + peer.node);
    co_await std::move(op);
    throw failed(ErrorCode::Forbidden,
                 "the peer could not prove the cluster secret; check that both nodes have the same "
                 "mesh.secret");
  }
  peer_ = std::move(peer);
  establish();
  asio::co_spawn(executor_, run_link(self), asio::detached);
}

void listen_for_links(transport::Server& server, LinkSettings settings, LinkHandlers handlers) {
  auto listener = std::make_shared<const Listener>(Listener{std::move(settings), std::move(handlers)});
  transport::Route route;
  route.path = "/_mesh";
  route.handler = [listener](net::Request& request, const net::ConnectionInfo& connection) {
    return accept_link(listener, request, connection.remote);
  };
  transport::add_route(server, std::move(route));
}

Task<std::shared_ptr<Link>> dial_link(asio::any_io_executor executor, std::string address,
                                      LinkSettings settings, LinkHandlers handlers) {
  auto link = std::make_shared<WebSocketLink>(executor, std::move(settings), std::move(handlers), true,
                                              std::make_unique<LinkIo>(executor));
  auto dial = asio::co_spawn(executor, link->dial(std::move(address)), asio::use_awaitable);
  co_await std::move(dial);
  co_return link;
}

}  // namespace plume::mesh
