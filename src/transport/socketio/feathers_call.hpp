// A Feathers service call that arrived over Socket.IO: `emit(method, path, ...args)` mapped to a
// HookContext and run through the App, as transport-commons' runMethod does
// (packages/transport-commons/src/socket/utils.ts).
#pragma once

#include <plume/core/app.hpp>
#include <plume/core/connection.hpp>
#include <plume/core/json.hpp>
#include <plume/core/task.hpp>

#include <memory>
#include <string_view>

namespace plume::transport::socketio {

// Where the params (query) argument sits: find 0, update and patch 2, every other method 1.
std::size_t params_position(std::string_view method) noexcept;

// Runs `method` on the service at `path` with the client's arguments (those after method and
// path). Returns what the client receives (dispatch, else result). Throws plume::Error:
// NotFound "Service '<path>' not found" (or "Invalid service path"), MethodNotAllowed
// "Method '<m>' not allowed on service '<path>'", BadRequest "Too many arguments for '<m>'
// method", or whatever the call raised. Params carry provider "socketio", the query argument
// with its JSON types, the route values, the connection's headers and login state, and the
// client's `address` as params.extra["ip"]. The node's internals (mesh/nodes) are not served to
// sockets: Forbidden.
Task<Json> run_socket_method(App& app, const std::shared_ptr<Connection>& connection,
                             std::string_view address, std::string_view method, const Json& path,
                             const JsonArray& args);

}  // namespace plume::transport::socketio
