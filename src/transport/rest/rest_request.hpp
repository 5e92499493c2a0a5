// What Feathers' REST transport takes from an HTTP request besides the route: the headers as
// params.headers, the Authorization header as params.authentication, and the body as data.
#pragma once

#include "net/http_types.hpp"

#include <plume/core/json.hpp>

#include <string_view>

namespace plume::transport {

// Header names lower-cased, as Node gives them; repeated headers joined with ", ".
JsonObject request_headers(const net::Request& request);

// "Bearer <token>", "JWT <token>" (any case) or a bare token -> {strategy: "jwt", accessToken};
// anything else -> null (the JWT strategy's parse rule, @feathersjs/authentication jwt.ts).
Json parse_authorization(std::string_view header);

// The call's data: JSON bodies parsed (malformed -> BadRequest), urlencoded forms parsed with
// qs (values stay strings), no or another body -> {} as Express' body parsers leave it.
Json request_body(const net::Request& request);

}  // namespace plume::transport
