// Endpoints that other layers put on a node's port: the mesh's WebSocket at /_mesh, later the
// gateway's proxy routes. They are tried after the probes and before Socket.io and services.
#pragma once

#include "net/http_types.hpp"

#include <plume/transport/server.hpp>

#include <functional>
#include <string>
#include <string_view>

namespace plume::transport {

struct Route {
  std::string path;     // "/_mesh"; also the name in metrics
  bool prefix = false;  // true: any path starting with `path` (then at a '/' boundary)
  net::Handler handler;
  // When set, decides instead of path/prefix (host-based routes look at the Host header).
  std::function<bool(const net::Request& request, std::string_view path)> accepts;
  // When set, the route takes its requests right after the head, before the body is read, and
  // streams them itself (a proxy); `handler` is then unused. Probes, global CORS, metrics and
  // the access log do not apply to these requests: the route answers for them.
  net::StreamHandler stream;
};

// Adds a route; call before Server::start(). Routes are tried in the order they were added.
void add_route(Server& server, Route route);

// True when the route takes the request: its `accepts`, else `path` equal to route.path or, for
// prefix routes, starting with it at a '/' boundary.
bool route_matches(const Route& route, const net::Request& request, std::string_view path);

}  // namespace plume::transport
