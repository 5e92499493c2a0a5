// Opening a link: the /_mesh route that accepts upgrades (to TLS, then to a WebSocket inside it),
// the dialer, and the challenge / hello / welcome exchange of link.hpp in which each side proves
// the cluster secret.
#include "mesh/link_tls.hpp"
#include "mesh/websocket_link.hpp"
#include "net/websocket_banner.hpp"
#include "transport/server_routes.hpp"

#include <plume/core/error.hpp>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/error.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include <algorithm>
#include <cctype>

namespace plume::mesh {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace http = beast::http;
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

// RFC 2817 3.2: the protocol token the dialer asks for and the listener confirms.
constexpr std::string_view kTlsToken = "TLS/1.3";

// Whether a comma-separated header value lists `token` (case-insensitive, RFC 9110 5.6.1).
bool lists_token(std::string_view value, std::string_view token) {
  while (!value.empty()) {
    auto comma = value.find(',');
    auto item = value.substr(0, comma);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    if (std::equal(item.begin(), item.end(), token.begin(), token.end(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
        })) {
      return true;
    }
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return false;
}

bool is_tls_upgrade(const net::Request& request) {
  return request.method() == http::verb::get && lists_token(request[http::field::connection], "upgrade") &&
         lists_token(request[http::field::upgrade], kTlsToken);
}

std::string with_binding(std::string text, std::string_view binding) {
  if (!binding.empty()) {
    text += '|';
    text += binding;
  }
  return text;
}

std::string_view mode_name(const LinkSettings& settings) {
  return settings.tls ? "TLS" : "plaintext (mesh.tls: off)";
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

void configure(websocket::stream<net::PlainOrTlsStream>& ws, const LinkSettings& settings) {
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
  auto* tls = listener->settings.tls ? &listener->settings.tls->server : nullptr;
  auto link = std::make_shared<WebSocketLink>(socket.get_executor(), listener->settings, listener->handlers,
                                              false, std::make_unique<LinkIo>(socket, tls));
  auto serve = link->serve(request, std::move(remote));
  co_await std::move(serve);
}

Task<net::Response> accept_link(std::shared_ptr<const Listener> listener, net::Request& request,
                                std::string remote) {
  const bool wants_tls = is_tls_upgrade(request);
  if (!wants_tls && !websocket::is_upgrade(request)) {
    co_return net::error_response(
        Error(ErrorCode::BadRequest,
              "/_mesh is the mesh's link between nodes; open it with an upgrade "
              "(GET with Upgrade: TLS/1.3, or Upgrade: websocket when mesh.tls is off)"),
        request.version(), request.keep_alive());
  }
  // Both ends must agree: a TLS node never lets a plaintext link in, and the other way round.
  if (wants_tls != static_cast<bool>(listener->settings.tls)) {
    std::string why = std::string("the dialer asked for a ") + (wants_tls ? "TLS" : "plaintext") +
                      " link and this node's mesh links are " + std::string(mode_name(listener->settings)) +
                      "; set the same mesh.tls on every node";
    log_rejected_handshake(remote, false, why);
    co_return net::error_response(Error(ErrorCode::Forbidden, why), request.version(), false);
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

std::string WebSocketLink::dial_proof(std::string_view listener_nonce, std::string_view dialer_nonce,
                                      std::string_view dialer_instance) const {
  return hmac_sha256_hex(
      settings_.secret, with_binding("dial|" + std::string(listener_nonce) + "|" + std::string(dialer_nonce) +
                                         "|" + std::string(dialer_instance),
                                     binding_));
}

std::string WebSocketLink::listen_proof(std::string_view dialer_nonce, std::string_view listener_nonce,
                                        std::string_view listener_instance) const {
  return hmac_sha256_hex(settings_.secret,
                         with_binding("listen|" + std::string(dialer_nonce) + "|" +
                                          std::string(listener_nonce) + "|" + std::string(listener_instance),
                                      binding_));
}

Task<WebSocketLink::TlsOutcome> WebSocketLink::tls_handshake(std::string_view remote) {
  auto* tls = io_->ws.next_layer().tls();
  auto op = tls->async_handshake(dialed_ ? asio::ssl::stream_base::client : asio::ssl::stream_base::server,
                                 kUseTuple);
  auto [ec] = co_await std::move(op);
  TlsOutcome outcome;
  if (ec) {
    // OpenSSL's reasons (a PSK binder that does not verify: the secret differs; an unknown CA)
    // are the peer's doing; a dropped connection or our own timeout is not.
    outcome.refused = reason_.empty() && ec.category() == asio::error::get_ssl_category();
    outcome.error = "TLS handshake: " + (!reason_.empty() ? reason_ : ec.message());
    // An alert from the peer means the peer refused us (and counted it); anything else OpenSSL
    // reports is this side refusing the peer.
    const bool alert_received =
        ERR_GET_REASON(static_cast<unsigned long>(ec.value())) >= SSL_AD_REASON_OFFSET;
    if (outcome.refused && !alert_received) log_rejected_handshake(remote, dialed_, outcome.error);
    set_reason(outcome.error);
    co_return outcome;
  }
  outcome.error = check_session(*settings_.tls, *tls);
  if (!outcome.error.empty()) {
    outcome.refused = true;
    log_rejected_handshake(remote, dialed_, outcome.error);
    set_reason(outcome.error);
    co_return outcome;
  }
  binding_ = channel_binding(*tls);
  co_return outcome;
}

Task<void> WebSocketLink::refuse(std::string_view remote, std::string why) {
  log_rejected_handshake(remote, dialed_, why);
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

  beast::error_code accept_error;
  if (io.ws.next_layer().is_tls()) {
    // RFC 2817 3.3: the 101 ends HTTP on the socket; the dialer's ClientHello follows it, and
    // the WebSocket upgrade comes inside TLS.
    http::response<http::empty_body> switching{http::status::switching_protocols, request.version()};
    switching.set(http::field::connection, "Upgrade");
    switching.set(http::field::upgrade, kTlsToken);
    auto write = http::async_write(io.socket, switching, kUseTuple);
    auto [write_error, written] = co_await std::move(write);
    if (write_error) {
      finish();
      co_return;
    }
    auto handshake = tls_handshake(remote);
    const TlsOutcome outcome = co_await std::move(handshake);
    if (!outcome.error.empty()) {
      if (!outcome.refused) {
        spdlog::info("event=mesh_link_handshake_failed peer={} why=\"{}\"", remote, outcome.error);
      }
      finish();
      co_return;
    }
    auto accept = io.ws.async_accept(kUseTuple);
    std::tie(accept_error) = co_await std::move(accept);
  } else {
    auto accept = io.ws.async_accept(request, kUseTuple);
    std::tie(accept_error) = co_await std::move(accept);
  }
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
  } else if (!equal_constant_time(field(h, "proof"), dial_proof(nonce, dialer_nonce, peer.instance))) {
    why = "wrong proof of the cluster secret from node " + peer.node;
  }
  if (!why.empty()) {
    auto op = refuse(remote, std::move(why));
    co_await std::move(op);
    finish();
    co_return;
  }
  auto welcome = write_text(to_json_text(
      JsonObject{{"t", "welcome"}, {"proof", listen_proof(dialer_nonce, nonce, settings_.self.instance)}}));
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
  if (io.ws.next_layer().is_tls()) {
    http::request<http::empty_body> upgrade{http::verb::get, "/_mesh", 11};
    upgrade.set(http::field::host, address);
    upgrade.set(http::field::connection, "Upgrade");
    upgrade.set(http::field::upgrade, kTlsToken);
    auto write = http::async_write(io.socket, upgrade, kUseTuple);
    auto [write_error, written] = co_await std::move(write);
    if (write_error) throw failed(ErrorCode::Unavailable, "TLS upgrade: " + cause(write_error));
    http::response_parser<http::string_body> parser;
    parser.body_limit(kHandshakeFrameMax);
    auto read = http::async_read(io.socket, io.buffer, parser, kUseTuple);
    auto [read_error, read_bytes] = co_await std::move(read);
    if (read_error) throw failed(ErrorCode::Unavailable, "TLS upgrade: " + cause(read_error));
    const auto& response = parser.get();
    if (response.result() != http::status::switching_protocols ||
        !lists_token(response[http::field::upgrade], kTlsToken)) {
      std::string message;
      try {
        message = field(parse_json(response.body()).as_object(), "message");
      } catch (...) {
      }
      throw failed(
          response.result() == http::status::forbidden ? ErrorCode::Forbidden : ErrorCode::Unavailable,
          "TLS upgrade refused (" + std::to_string(response.result_int()) + ")" +
              (message.empty() ? "" : ": " + message));
    }
    // The listener sends nothing after the 101 until our ClientHello.
    if (io.buffer.size() != 0) throw failed(ErrorCode::Unavailable, "TLS upgrade: data after the 101");
    auto handshake = tls_handshake(address);
    const TlsOutcome outcome = co_await std::move(handshake);
    if (!outcome.error.empty()) {
      if (!outcome.refused) throw failed(ErrorCode::Unavailable, outcome.error);
      throw failed(ErrorCode::Forbidden,
                   outcome.error + "; check that both nodes have the same mesh.secret and mesh.tls");
    }
  }
  auto upgrade_op = io.ws.async_handshake(address, "/_mesh", kUseTuple);
  auto [upgrade_error] = co_await std::move(upgrade_op);
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
  auto hello = write_text(
      to_json_text(JsonObject{{"t", "hello"},
                              {"v", kProtocolVersion},
                              {"node", settings_.self.node},
                              {"instance", settings_.self.instance},
                              {"address", settings_.self.address},
                              {"nonce", nonce},
                              {"proof", dial_proof(listener_nonce, nonce, settings_.self.instance)}}));
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
                           listen_proof(nonce, listener_nonce, peer.instance))) {
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
  auto* tls = settings.tls ? &settings.tls->client : nullptr;
  auto link = std::make_shared<WebSocketLink>(executor, std::move(settings), std::move(handlers), true,
                                              std::make_unique<LinkIo>(executor, tls));
  auto dial = asio::co_spawn(executor, link->dial(std::move(address)), asio::use_awaitable);
  co_await std::move(dial);
  co_return link;
}

}  // namespace plume::mesh
