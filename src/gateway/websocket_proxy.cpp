// WebSocket proxying (http-proxy's `ws`): the upgrade request goes to a target with its
// Connection: Upgrade kept; when the upstream agrees (101) its reply goes back to the client and
// the gateway then copies bytes both ways without reading the frames, until either side closes.
#include "gateway/exchange.hpp"

#include "net/request_head.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

namespace plume::gateway {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = net::http;
using asio::ip::tcp;

namespace {

constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);

Task<void> pipe(tcp::socket& from, tcp::socket& to) {
  std::array<char, 16 * 1024> data;
  for (;;) {
    auto [read_error, n] = co_await from.async_read_some(asio::buffer(data), kUseTuple);
    if (read_error) break;
    auto [write_error, written] = co_await asio::async_write(to, asio::buffer(data.data(), n), kUseTuple);
    if (write_error) break;
  }
  // Either side ending ends the tunnel: closing both cancels the other direction.
  boost::system::error_code ignored;
  from.close(ignored);
  to.close(ignored);
}

}  // namespace

Task<bool> proxy_websocket(Exchange& exchange) {
  using namespace asio::experimental::awaitable_operators;
  auto& client = exchange.client;
  auto& route = exchange.route;
  auto& request = client.parser.get();

  std::vector<int> tried;
  std::string hash_key = exchange.client_ip;
  int index = route.balancer->choose(hash_key, tried);
  if (index < 0) {
    auto op = reply_error(exchange, unavailable("No healthy upstream target for " + route.options.match));
    co_return co_await std::move(op);
  }
  Target& target = *route.balancer->targets()[index];
  exchange.target_url = target.address().url;
  prepare_upstream_request(exchange, target.address());

  auto executor = co_await asio::this_coro::executor;
  Watchdog watchdog(executor);
  tcp::socket upstream(client.socket.get_executor());
  watchdog.watch(&upstream);
  watchdog.arm(route.options.proxy_timeout);
  boost::system::error_code ec;
  {
    tcp::resolver resolver(executor);
    auto [resolve_error, endpoints] = co_await resolver.async_resolve(
        target.address().host, std::to_string(target.address().port), kUseTuple);
    ec = resolve_error;
    if (!ec) {
      auto [connect_error, endpoint] = co_await asio::async_connect(upstream, endpoints, kUseTuple);
      ec = connect_error;
    }
  }
  if (ec) {
    target.report_failure(ec.message());
    if (watchdog.fired()) {
      auto op = reply_gateway_timeout(exchange, "Connecting to " + target.address().url + " timed out");
      co_return co_await std::move(op);
    }
    auto op =
        reply_error(exchange, bad_gateway("Cannot connect to " + target.address().url + ": " + ec.message()));
    co_return co_await std::move(op);
  }

  // An upgrade request has no body: the head is all there is to send.
  request.body().data = nullptr;
  request.body().size = 0;
  request.body().more = false;
  http::serializer<true, http::buffer_body> serializer{request};
  auto [write_error, written] = co_await http::async_write(upstream, serializer, kUseTuple);
  beast::flat_buffer upstream_buffer;
  http::response_parser<http::string_body> response_parser;
  response_parser.body_limit(1024 * 1024);
  if (!write_error) {
    auto [read_error, read] =
        co_await http::async_read(upstream, upstream_buffer, response_parser, kUseTuple);
    write_error = read_error;
  }
  if (write_error) {
    target.report_failure(write_error.message());
    if (watchdog.fired()) {
      auto op =
          reply_gateway_timeout(exchange, "No answer to the WebSocket upgrade from " + target.address().url);
      co_return co_await std::move(op);
    }
    auto op = reply_error(exchange, bad_gateway("The WebSocket upgrade to " + target.address().url +
                                                " failed: " + write_error.message()));
    co_return co_await std::move(op);
  }
  watchdog.disarm();
  watchdog.watch(nullptr);
  target.report_success();

  auto& response = response_parser.get();
  exchange.status = static_cast<int>(response.result_int());
  response.set("X-Request-Id", exchange.request_id);
  for (const auto& [name, value] : exchange.response_headers) response.set(name, value);
  // The handshake names no library version, whoever answered it (net/websocket_banner.hpp).
  response.erase(http::field::server);
  if (response.result() != http::status::switching_protocols) {
    // Refused: the client gets the upstream's answer as is, and the connection ends. The body
    // was read whole, so the gateway frames it with a Content-Length of its own; a coding other
    // than chunked was not decoded and cannot be relayed.
    auto codings = net::transfer_codings(response);
    if (!codings.empty() && (codings.size() != 1 || !beast::iequals(codings.front(), "chunked"))) {
      auto op = reply_error(exchange, bad_gateway("The upstream's answer to the WebSocket upgrade cannot be "
                                                  "relayed: it has Transfer-Encoding: " +
                                                  std::string(response[http::field::transfer_encoding])));
      co_return co_await std::move(op);
    }
    response.erase(http::field::transfer_encoding);
    remove_hop_by_hop(response, false);
    response.keep_alive(false);
    response.prepare_payload();
    client.session.expires_after(exchange.client_timeout);
    co_await http::async_write(client.socket, response, kUseTuple);
    co_return false;
  }
  client.session.expires_after(exchange.client_timeout);
  auto [reply_error_code, replied] = co_await http::async_write(client.socket, response, kUseTuple);
  if (reply_error_code) co_return false;

  // Bytes each side sent past the handshake come first.
  if (upstream_buffer.size() > 0) {
    auto [e, n] = co_await asio::async_write(client.socket, upstream_buffer.data(), kUseTuple);
    if (e) co_return false;
  }
  if (client.buffer.size() > 0) {
    auto [e, n] = co_await asio::async_write(upstream, client.buffer.data(), kUseTuple);
    if (e) co_return false;
    client.buffer.consume(client.buffer.size());
  }
  // The tunnel keeps its own time (WebSocket pings) and must not hold a graceful stop up.
  client.session.set_busy(false);
  client.session.expires_never();
  auto tunnel = pipe(client.socket, upstream) && pipe(upstream, client.socket);
  co_await std::move(tunnel);
  co_return false;
}

}  // namespace plume::gateway
