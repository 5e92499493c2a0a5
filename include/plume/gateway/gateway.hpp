// The API gateway: a proxy table in http-proxy-middleware's form (`proxyTable`, or `router`)
// served on a node's port beside its services, with keep-alive upstream pools, load balancing,
// active and passive health checks, retries, streamed bodies, WebSocket tunnels, per-route JWT
// or API-key authentication, CORS and rate limits (in-process or shared through Redis).
//
//   gateway::Gateway gateway(app, server, gateway::GatewayOptions{...}, authentication);
//   server.start();
//   gateway.start();
//   ...
//   gateway.stop();   // before the server stops
//
// Routes are matched in table order and the first match wins; a request no route takes goes on
// to the node's services. Errors are Feathers-shaped JSON: 502 BadGateway (the upstream refused
// or broke the connection), 504 GatewayTimeout (no answer within proxyTimeout), 503 Unavailable
// (no healthy target), 413 PayloadTooLarge, 401 NotAuthenticated, 429 TooManyRequests.
#pragma once

#include <plume/auth/authentication.hpp>
#include <plume/core/app.hpp>
#include <plume/transport/server.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace plume::gateway {

enum class Balance { RoundRobin, LeastConnections, Hash };
enum class AuthMode { None, Jwt, ApiKey };
enum class LimitBy { Consumer, Ip, Header };
enum class LimitStore { Local, Redis };
// What happens to a client's RFC 7239 Forwarded header: the gateway does not write one, so by
// default a client's claim is dropped rather than reaching the upstream as if it were vouched for.
enum class ForwardedHeader { Drop, Keep };

// Active checks (when `path` is set): GET path on every target each `interval`; `healthy`
// successes in a row (2xx or 3xx) bring a target up, `unhealthy` failures in a row take it down.
// Passive checks always run on live traffic: `unhealthy` connect errors, timeouts or 5xx replies
// in a row take a target down for `interval`, after which it gets traffic again (or, with active
// checks, when they find it healthy).
struct HealthCheckOptions {
  std::string path;
  std::chrono::milliseconds interval{10'000};
  int healthy = 2;
  int unhealthy = 3;
  std::chrono::milliseconds timeout{2'000};
};

// Limits per period (0: none for that period), a generic cell rate (GCRA) per period and key:
// a client gets `limit` requests in any window of the period's length, spread or in a burst,
// with no doubling at calendar boundaries.
struct RateLimitOptions {
  std::int64_t second = 0;
  std::int64_t minute = 0;
  std::int64_t hour = 0;
  // A limit over a window of any length (`limit: 600, window: 1m`), beside or instead of them.
  std::int64_t limit = 0;
  std::chrono::milliseconds window{0};
  // consumer: the authenticated identity, else the client IP; ip; header: the value of `header`.
  LimitBy by = LimitBy::Consumer;
  std::string header;
  LimitStore store = LimitStore::Local;
  std::string redis = "redis://127.0.0.1:6379";
  // When Redis cannot be reached: true lets requests through (logged), false answers 503.
  bool fault_tolerant = true;
};

struct CorsRouteOptions {
  std::vector<std::string> origins = {"*"};
};

struct RouteOptions {
  // The proxyTable key: "/path" (a path prefix at a '/' boundary), "host" (the Host header,
  // with or without its port) or "host/path".
  std::string match;
  // Upstream base URLs (http://host:port[/base]); several make a pool.
  std::vector<std::string> targets;
  bool change_origin = false;  // Host: the target's host instead of the client's
  // Regex -> replacement on the path and query, only the first matching rule applies.
  std::vector<std::pair<std::string, std::string>> path_rewrite;
  bool ws = false;   // proxy WebSocket upgrades
  bool xfwd = true;  // X-Forwarded-For, -Proto, -Host and X-Real-IP
  ForwardedHeader forwarded = ForwardedHeader::Drop;
  std::vector<std::pair<std::string, std::string>> headers;  // set on the upstream request
  // Client side: the request must arrive within this (0: the server's limits).
  std::chrono::milliseconds timeout{0};
  // Upstream side: connecting, and every wait for the upstream, must complete within this.
  std::chrono::milliseconds proxy_timeout{60'000};
  // Further attempts on other targets for idempotent requests without a body that failed before
  // any response; unset: one per other target, at most 3.
  std::optional<int> retries;
  AuthMode auth = AuthMode::None;
  bool strip_authorization = false;  // drop the client's Authorization header upstream
  std::optional<RateLimitOptions> rate_limit;
  HealthCheckOptions health_check;
  Balance balance = Balance::RoundRobin;
  // For Balance::Hash: "ip" or "header:<name>".
  std::string hash_on = "ip";
  std::optional<CorsRouteOptions> cors;
  // Request bodies larger than this answer 413 (0: no limit).
  std::size_t body_limit = 0;
};

// An API key as the gateway keeps it: the SHA-256 of the key (lowercase hex), never the key.
struct ApiKey {
  std::string consumer;
  std::string sha256;
};

struct GatewayOptions {
  std::vector<RouteOptions> routes;
  std::vector<ApiKey> apikeys;
  // Where a client puts its key: this header, else this query parameter.
  std::string apikey_header = "x-api-key";
  std::string apikey_query = "apikey";
  // Peers (IPs or CIDR blocks) whose X-Forwarded-For is believed for the client IP.
  std::vector<std::string> trusted_proxies;
  // Upstream connections kept idle per target and I/O thread, and for how long.
  std::size_t max_idle_per_target = 64;
  std::chrono::milliseconds idle_timeout{30'000};
  bool access_log = false;
};

// The lowercase hex SHA-256 of an API key (what `ApiKey::sha256` holds).
std::string hash_api_key(std::string_view key);

class Gateway {
 public:
  // Adds the gateway's route to `server` (before Server::start()) and its readiness check.
  // Throws plume::Error BadRequest for a route that cannot work (a bad regex or target, jwt
  // auth without an authentication secret).
  Gateway(App& app, transport::Server& server, GatewayOptions options,
          const std::optional<auth::AuthenticationOptions>& authentication);
  ~Gateway();
  Gateway(const Gateway&) = delete;
  Gateway& operator=(const Gateway&) = delete;

  // Starts health checks and Redis connections. Requests are proxied from Server::start() on.
  void start();
  // Stops health checks, closes idle upstream connections; requests after it answer 503.
  void stop();
  // Empty when ready, else why not (for /readyz).
  std::string readiness() const;

  struct State;

 private:
  std::shared_ptr<State> state_;
};

}  // namespace plume::gateway
