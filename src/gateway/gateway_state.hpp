// The gateway's runtime state: compiled routes (matching key, rewriter, balancer, limits), the
// credentials it accepts, and the thread that runs health checks and Redis connections.
#pragma once

#include "gateway/rate_limit.hpp"
#include "gateway/route_table.hpp"
#include "gateway/upstream.hpp"
#include "net/http_types.hpp"

#include <plume/auth/jwt.hpp>
#include <plume/gateway/gateway.hpp>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

namespace plume::gateway {

struct CompiledRoute {
  RouteOptions options;
  RouteKey key;
  PathRewriter rewriter;
  std::unique_ptr<Balancer> balancer;
  int retries = 0;
  std::vector<Period> periods;
  std::shared_ptr<RateLimitStore> limit_store;
  std::string limit_prefix;  // key prefix: the route's table key
};

// An IPv4 or IPv6 block ("10.0.0.0/8", "::1", "127.0.0.1").
struct AddressBlock {
  boost::asio::ip::address network;
  unsigned prefix = 0;
  bool contains(const boost::asio::ip::address& address) const;
};
AddressBlock parse_address_block(std::string_view text);

struct Gateway::State {
  // Health checks and Redis clients run here, off the server's I/O threads. Declared first so
  // that it is destroyed last: the routes' Redis stores and health checks close on it.
  boost::asio::io_context ioc{1};
  GatewayOptions options;
  std::vector<CompiledRoute> routes;
  std::optional<auth::JwtOptions> jwt;
  std::unordered_map<std::string, std::string> apikeys;  // SHA-256 hex -> consumer
  std::vector<AddressBlock> trusted_proxies;
  std::atomic<bool> started{false};
  std::atomic<bool> stopped{false};
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work;
  std::thread thread;
  std::vector<std::function<std::string()>> readiness_checks;
  std::vector<std::function<void()>> closers;  // Redis clients

  // Index of the first route that takes the request, or -1.
  int match(std::string_view host, std::string_view path) const;
};

// Serves one request the route table took (see net::StreamExchange).
Task<bool> serve_exchange(std::shared_ptr<Gateway::State> state, net::StreamExchange& exchange);

}  // namespace plume::gateway
