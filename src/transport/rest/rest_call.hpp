// The REST transport proper: an HTTP request on a service path becomes one service call through
// App::run, as Feathers' REST transport maps it (packages/transport-commons/src/http.ts):
// verb and id select the method, the reply's status follows getStatusCode.
#pragma once

#include "net/http_types.hpp"

#include <plume/core/app.hpp>

#include <string>
#include <string_view>

namespace plume::transport {

// The service method for a verb: GET/HEAD find or get, POST create (or the X-Service-Method
// custom method), PUT update, PATCH patch, DELETE remove. Unknown verbs throw MethodNotAllowed
// "Method OPTIONS not allowed".
std::string service_method_for(const net::Request& request, bool has_id);

// True for values Feathers answers with 204 and no body: null, false, 0, "".
bool is_falsy(const Json& value) noexcept;

// Runs the call and builds the reply. Throws plume::Error for transport-level refusals (405);
// errors from the call itself propagate as they were thrown. `method` receives the method for
// metrics as soon as it is known: a custom method the service does not expose is "other".
// params.extra["ip"] is the client's address (the connection's peer), as Feathers apps set
// params.ip.
Task<net::StringResponse> call_service(App& app, RouteMatch& match, const net::Request& request,
                                       std::string_view query_text, const net::ConnectionInfo& connection,
                                       std::string& method);

}  // namespace plume::transport
