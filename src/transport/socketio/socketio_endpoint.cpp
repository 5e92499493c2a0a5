#include "transport/socketio/socketio_endpoint.hpp"

#include "transport/admin_access.hpp"
#include "transport/rest/rest_request.hpp"
#include "transport/socketio/feathers_socket.hpp"
#include "transport/socketio/websocket_transport.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

namespace plume::transport::socketio {
namespace {

namespace asio = boost::asio;
namespace http = net::http;

struct EngineQuery {
  std::string_view eio;
  std::string_view transport;
  std::string_view sid;
  bool has_sid = false;
};

// The parameters Engine.IO reads (EIO, transport, sid); their values are plain tokens.
EngineQuery parse_query(std::string_view query) {
  EngineQuery result;
  while (!query.empty()) {
    auto amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    auto eq = pair.find('=');
    std::string_view name = pair.substr(0, eq);
    std::string_view value = eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
    if (name == "EIO") {
      result.eio = value;
    } else if (name == "transport") {
      result.transport = value;
    } else if (name == "sid") {
      result.sid = value;
      result.has_sid = true;
    }
  }
  return result;
}

// engine.io abortRequest: 400 (403 for Forbidden) with {"code":N,"message":…}.
net::StringResponse engine_error(const net::Request& request, EngineError error) {
  auto status = error == EngineError::Forbidden ? http::status::forbidden : http::status::bad_request;
  net::StringResponse response{status, request.version()};
  response.keep_alive(request.keep_alive());
  response.set(http::field::content_type, "application/json");
  response.body() = "{\"code\":" + std::to_string(static_cast<int>(error)) + ",\"message\":\"" +
                    std::string(engine_error_message(error)) + "\"}";
  response.prepare_payload();
  return response;
}

net::StringResponse text_response(const net::Request& request, http::status status,
                                  std::string_view content_type, std::string body) {
  net::StringResponse response{status, request.version()};
  response.keep_alive(request.keep_alive());
  if (!content_type.empty()) response.set(http::field::content_type, content_type);
  response.set(http::field::cache_control, "no-store");
  response.body() = std::move(body);
  response.prepare_payload();
  return response;
}

// Polling GET bodies (engine.io polling.ts).
net::StringResponse packets_response(const net::Request& request, std::string body) {
  return text_response(request, http::status::ok, "text/plain; charset=UTF-8", std::move(body));
}

}  // namespace

SocketIoEndpoint::SocketIoEndpoint(App& app, SocketIoOptions options)
    : app_(app),
      options_(std::move(options)),
      engine_{.ping_interval = options_.ping_interval,
              .ping_timeout = options_.ping_timeout,
              .upgrade_timeout = options_.upgrade_timeout,
              .max_payload = options_.max_payload},
      admission_(std::make_shared<SessionAdmission>(options_.max_sessions, options_.max_unconnected)) {}

Task<net::Response> SocketIoEndpoint::handle(net::Request& request, const net::ConnectionInfo& connection,
                                             std::string_view query_text) {
  auto query = parse_query(query_text);
  // engine.io server.ts verify(): transport, then sid, then the handshake's method; the protocol
  // version is checked at the handshake only.
  if (query.transport != "polling" && query.transport != "websocket") {
    co_return engine_error(request, EngineError::TransportUnknown);
  }
  bool upgrade = boost::beast::websocket::is_upgrade(request);
  auto executor = co_await asio::this_coro::executor;

  if (!query.has_sid) {
    if (request.method() != http::verb::get) co_return engine_error(request, EngineError::BadHandshakeMethod);
    if (query.transport == "websocket" && !upgrade) co_return engine_error(request, EngineError::BadRequest);
    if (query.transport == "polling" && upgrade) co_return engine_error(request, EngineError::BadRequest);
    if (query.eio != "4") co_return engine_error(request, EngineError::UnsupportedProtocolVersion);
    auto ticket = SessionAdmission::admit(admission_);
    if (!ticket) {
      // One line per thousand refusals: a flood must not become a flood of logs.
      if (const auto refused = refused_.fetch_add(1) + 1; refused % 1000 == 1) {
        spdlog::warn("event=socketio_sessions_full max_sessions={} max_unconnected={} refused_total={}",
                     options_.max_sessions, options_.max_unconnected, refused);
      }
      co_return net::error_response(unavailable("Too many real-time sessions; try again later"),
                                    request.version(), request.keep_alive());
    }
    JsonObject headers = request_headers(request);
    std::string address(address_of(connection.remote));

    if (query.transport == "polling") {
      auto session = std::make_shared<EngineSession>(registry_, executor, engine_, std::move(headers));
      auto socket =
          std::make_shared<FeathersSocket>(app_, options_, session, std::move(address), std::move(ticket));
      session->open(socket, nullptr);
      socket->start();
      co_return packets_response(request, session->open_packet(true));
    }
    auto link = make_websocket_link(executor);
    OpenWebSocketSession open = [this, executor, headers = std::move(headers), address = std::move(address),
                                 ticket = std::move(ticket)](std::shared_ptr<WebSocketLink> link) {
      auto session = std::make_shared<EngineSession>(registry_, executor, engine_, headers);
      auto socket = std::make_shared<FeathersSocket>(app_, options_, session, address, ticket);
      session->open(socket, std::move(link));
      socket->start();
      return session;
    };
    co_return net::Upgrade{[this, link, open = std::move(open)](asio::ip::tcp::socket& tcp,
                                                                boost::beast::flat_buffer& buffer,
                                                                net::Request& upgrade_request) {
      return serve_websocket(tcp, buffer, upgrade_request, engine_, link, nullptr, open);
    }};
  }

  auto session = registry_.find(std::string(query.sid));
  if (!session) co_return engine_error(request, EngineError::UnknownSid);

  if (upgrade) {
    if (query.transport != "websocket") co_return engine_error(request, EngineError::BadRequest);
    auto link = make_websocket_link(executor);
    std::weak_ptr<EngineSession> weak = session;
    auto begin = run_on_session(std::move(session), [link](EngineSession& s) { return s.begin_probe(link); });
    bool probing = co_await std::move(begin);
    if (!probing) co_return engine_error(request, EngineError::BadRequest);
    // The upgrade holds the session weakly until the socket runs (see serve_websocket).
    co_return net::Upgrade{[this, link, weak](asio::ip::tcp::socket& tcp, boost::beast::flat_buffer& buffer,
                                              net::Request& upgrade_request) {
      // A session gone meanwhile: serve_websocket refuses the probe and closes the socket.
      return serve_websocket(tcp, buffer, upgrade_request, engine_, link, weak.lock(), nullptr);
    }};
  }
  if (query.transport != "polling") co_return engine_error(request, EngineError::BadRequest);

  if (request.method() == http::verb::get) {
    auto executor_of_session = session->executor();
    auto poll = asio::co_spawn(executor_of_session, session->poll(), asio::use_awaitable);
    auto result = co_await std::move(poll);
    switch (result.kind) {
      case EngineSession::PollResult::Kind::Packets:
        co_return packets_response(request, std::move(result.body));
      case EngineSession::PollResult::Kind::Upgraded:
        co_return engine_error(request, EngineError::BadRequest);
      case EngineSession::PollResult::Kind::Overlap:
        co_return text_response(request, http::status::internal_server_error, {}, {});
    }
  }
  if (request.method() == http::verb::post) {
    if (request.body().size() > engine_.max_payload) {
      // engine.io polling.ts onDataRequest: 413 and the session ends.
      spdlog::info("event=socketio_protocol_error sid={} reason=\"payload over maxPayload\" bytes={}",
                   session->sid(), request.body().size());
      auto close = run_on_session(std::move(session), [](EngineSession& s) {
        s.close("payload over maxPayload");
        return true;
      });
      co_await std::move(close);
      co_return text_response(request, http::status::payload_too_large, {}, {});
    }
    auto executor_of_session = session->executor();
    auto receive =
        asio::co_spawn(executor_of_session, session->receive_payload(request.body()), asio::use_awaitable);
    bool accepted = co_await std::move(receive);
    if (!accepted) co_return engine_error(request, EngineError::BadRequest);
    co_return text_response(request, http::status::ok, "text/html", "ok");
  }
  co_return text_response(request, http::status::internal_server_error, {}, {});
}

void SocketIoEndpoint::close_all() {
  for (auto& session : registry_.take_all()) {
    auto executor = session->executor();
    asio::post(executor, [session = std::move(session)] { session->close("server shutting down"); });
  }
}

}  // namespace plume::transport::socketio
