// Who may read the node's internals (GET /metrics, the mesh's node list): the admin listener's
// clients, clients with the admin token, and, when no admin listener is configured, clients on
// the node itself whose request no proxy relayed. See AdminOptions in transport/server.hpp.
#pragma once

#include "net/http_types.hpp"

#include <plume/transport/server.hpp>

#include <string>
#include <string_view>

namespace plume::transport {

// "/metrics", "/mesh/nodes" and anything below it.
bool is_admin_path(std::string_view path) noexcept;

// The IP address of "203.0.113.7:51234" or "::1:51234" (ConnectionInfo::remote).
std::string_view address_of(std::string_view remote) noexcept;

class AdminAccess {
 public:
  explicit AdminAccess(const AdminOptions& options);

  // Throws Forbidden unless the request may read an admin path on the main listener.
  void check(const net::Request& request, const net::ConnectionInfo& connection) const;

 private:
  bool has_token(const net::Request& request) const;

  std::string token_sha256_;
  bool loopback_allowed_;
};

}  // namespace plume::transport
