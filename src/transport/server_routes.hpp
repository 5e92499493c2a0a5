// Endpoints that other layers put on a node's port: the mesh's WebSocket at /_mesh, later the
// gateway's proxy routes. They are tried after the probes and before Socket.io and services.
#pragma once

#include "net/http_types.hpp"

#include <plume/transport/server.hpp>

#include <string>

namespace plume::transport {

struct Route {
  std::string path;     // "/_mesh"
  bool prefix = false;  // true: any path starting with `path` (then at a '/' boundary)
  net::Handler handler;
};

// Adds a route; call before Server::start(). Routes are tried in the order they were added.
void add_route(Server& server, Route route);

// True when `path` is `route_path`, or (prefix routes) starts with it at a '/' boundary.
bool route_matches(const Route& route, std::string_view path) noexcept;

}  // namespace plume::transport
