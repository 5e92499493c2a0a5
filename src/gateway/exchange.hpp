// What the steps of one proxied exchange share: the client side (the session's socket, buffer
// and parser), the route, the identity and rate-limit headers gathered before the upstream is
// called, and the replies the gateway writes itself.
#pragma once

#include "gateway/gateway_state.hpp"

#include <plume/core/error.hpp>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace plume::gateway {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct Exchange {
  Exchange(Gateway::State& gateway_state, net::StreamExchange& client_side, const CompiledRoute& matched)
      : state(gateway_state), client(client_side), route(matched) {}

  Gateway::State& state;
  net::StreamExchange& client;
  const CompiledRoute& route;
  std::string request_id;
  std::string original_target;  // the client's request target (normalised), for the log
  std::string upstream_target;  // what goes upstream before pathRewrite: a query apikey stripped
  std::string client_ip;        // after trustedProxies
  std::string peer_ip;          // the socket's
  bool client_keep_alive = true;
  bool head = false;
  std::chrono::milliseconds client_timeout{60'000};
  Headers response_headers;  // rate limits, CORS, request id: added to every reply
  int status = 0;            // for the log
  std::string target_url;    // the upstream tried last
  std::string error;         // why the gateway answered itself
};

// Closes an upstream socket when no progress was made for a while. Arming only moves a deadline
// (no timer operation per read or write); the timer re-waits when it fires early.
class Watchdog {
 public:
  explicit Watchdog(const boost::asio::any_io_executor& executor);
  ~Watchdog();
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

  void watch(boost::asio::ip::tcp::socket* socket);
  void arm(std::chrono::milliseconds timeout);
  void disarm();
  bool fired() const;

  // Shared with the timer's handler, which may run after the watchdog is gone.
  struct Shared;

 private:
  std::shared_ptr<Shared> shared_;
};

// Writes a reply of the gateway's own (an error or a preflight) and tells whether the
// connection can go on. A request whose body was not read closes the connection, after a short
// drain so that the client reads the reply instead of a reset.
// (Coroutine parameters are taken by value: a reference to a temporary would dangle once the
// full expression that created the awaitable ends.)
Task<bool> reply(Exchange& exchange, net::http::status status, std::string body, Headers extra = {});
Task<bool> reply_error(Exchange& exchange, Error error);
// 504 in Feathers' error shape; Feathers has no class for it, so the name is GatewayTimeout.
Task<bool> reply_gateway_timeout(Exchange& exchange, std::string message);

// Connection-specific headers (RFC 9110 7.6.1) that a proxy must not forward: Connection, the
// fields it names, Keep-Alive, Proxy-Connection, TE, Trailer, Upgrade (kept for WebSocket
// tunnels with `keep_upgrade`).
void remove_hop_by_hop(net::http::fields& fields, bool keep_upgrade);

// The HTTP exchange with the upstream: target choice, retries, streaming both ways.
Task<bool> proxy_http(Exchange& exchange);
// A WebSocket upgrade tunnelled to the upstream.
Task<bool> proxy_websocket(Exchange& exchange);

// Rewrites the request head for the upstream: target, Host, X-Forwarded-*, route headers.
void prepare_upstream_request(Exchange& exchange, const TargetAddress& target);

}  // namespace plume::gateway
