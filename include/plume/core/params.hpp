// Params travel with every service call, as in Feathers: the query, who is calling (provider),
// route placeholders, request headers, and the authenticated user.
#pragma once

#include <plume/core/json.hpp>

#include <memory>
#include <optional>
#include <string>

namespace plume {

class Connection;

// Per-call override of a service's pagination (Feathers' params.paginate).
struct PaginateOptions {
  bool enabled = true;
  std::optional<std::int64_t> default_limit;
  std::optional<std::int64_t> max_limit;
};

struct Params {
  // The query, after transport decoding; REST values have been coerced by the service schema.
  Json query = JsonObject{};
  // "rest", "socketio", "mesh"...; empty for internal calls (hooks such as authenticate let those pass).
  std::string provider;
  // Values of URL placeholders ("users/:userId/messages" gives {"userId": "7"}).
  JsonObject route;
  // Request headers with lower-case names (external calls only).
  JsonObject headers;
  // The authenticated entity, or null.
  Json user = nullptr;
  // {strategy, accessToken, ...} as parsed from the request, or null.
  Json authentication = nullptr;
  bool authenticated = false;
  // params.paginate: overrides the service's pagination for this call.
  std::optional<PaginateOptions> paginate;
  // The real-time connection the call came from (sockets), else null.
  std::shared_ptr<Connection> connection;
  // Free-form values for hooks to pass along (Feathers apps put anything on params).
  JsonObject extra;

  bool is_external() const noexcept { return !provider.empty(); }
};

}  // namespace plume
