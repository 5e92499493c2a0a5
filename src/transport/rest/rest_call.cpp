#include "transport/rest/rest_call.hpp"

#include "net/static_files.hpp"
#include "transport/admin_access.hpp"
#include "transport/rest/query_string.hpp"
#include "transport/rest/rest_request.hpp"

#include <plume/core/error.hpp>
#include <plume/core/hooks.hpp>
#include <plume/core/schema.hpp>

#include <plume/core/json.hpp>

namespace plume::transport {
namespace http = net::http;

namespace {

// Route values and ids arrive percent-encoded in the URL; Express decodes them for params.
std::string decode_segment(const std::string& raw) {
  auto decoded = net::percent_decode(raw);
  if (!decoded) throw bad_request("Malformed URL segment '" + raw + "'");
  return std::move(*decoded);
}

int status_for(const HookContext& context, const Json& reply) {
  if (context.status_code) return *context.status_code;
  if (!context.location.empty()) return 303;
  if (is_falsy(reply)) return 204;
  if (context.method == "create") return 201;
  return 200;
}

}  // namespace

std::string service_method_for(const net::Request& request, bool has_id) {
  switch (request.method()) {
    case http::verb::get:
    case http::verb::head:
      return has_id ? "get" : "find";
    case http::verb::post: {
      auto custom = request["x-service-method"];
      return custom.empty() ? "create" : std::string(custom);
    }
    case http::verb::put:
      return "update";
    case http::verb::patch:
      return "patch";
    case http::verb::delete_:
      return "remove";
    default:
      throw method_not_allowed("Method " + std::string(request.method_string()) + " not allowed");
  }
}

bool is_falsy(const Json& value) noexcept {
  switch (value.kind()) {
    case boost::json::kind::null:
      return true;
    case boost::json::kind::bool_:
      return !value.get_bool();
    case boost::json::kind::int64:
      return value.get_int64() == 0;
    case boost::json::kind::uint64:
      return value.get_uint64() == 0;
    case boost::json::kind::double_:
      return value.get_double() == 0.0 || value.get_double() != value.get_double();
    case boost::json::kind::string:
      return value.get_string().empty();
    default:
      return false;
  }
}

Task<net::StringResponse> call_service(App& app, RouteMatch& match, const net::Request& request,
                                       std::string_view query_text, const net::ConnectionInfo& connection,
                                       std::string& method) {
  ServiceEntry& entry = *match.entry;
  std::string requested = service_method_for(request, match.id.has_value());
  // A custom method may only be reached through X-Service-Method on POST, and only when the
  // service exposes it; naming a standard method there is refused as well (http.ts).
  bool names_standard = request.method() == http::verb::post && !request["x-service-method"].empty() &&
                        is_standard_method(requested);
  if (names_standard || !entry.exposes(requested)) {
    // The metrics label is a name the node knows, never one the client made up.
    method = is_standard_method(requested) && !names_standard ? requested : "other";
    throw method_not_allowed("Method `" + requested + "` is not supported by this endpoint.");
  }
  method = requested;

  HookContext context = app.context_for(entry, method);
  if (match.id) context.id = Id(decode_segment(*match.id));

  Params& params = context.params;
  params.provider = "rest";
  if (!query_text.empty()) params.query = parse_query_string(query_text);
  if (const Schema* schema = entry.schema()) schema->coerce_query(params.query);
  params.headers = request_headers(request);
  for (auto& [name, value] : match.route) {
    if (value.is_string()) value = decode_segment(std::string(value.get_string()));
  }
  params.route = std::move(match.route);
  params.authentication = parse_authorization(request[http::field::authorization]);
  params.extra["ip"] = std::string(address_of(connection.remote));

  if (method != "find" && method != "get" && method != "remove") {
    context.data = request_body(request);
  }

  co_await app.run(context);

  const Json& reply = context.reply();
  int status = status_for(context, reply);
  net::StringResponse response{static_cast<http::status>(status), request.version()};
  response.keep_alive(request.keep_alive());
  if (!context.location.empty()) response.set(http::field::location, context.location);
  if (status != 204) {
    response.set(http::field::content_type, net::kJsonContentType);
    response.body() = to_json_text(reply);
  }
  response.prepare_payload();
  co_return response;
}

}  // namespace plume::transport
