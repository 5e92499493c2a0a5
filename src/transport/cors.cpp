#include "transport/cors.hpp"

#include <algorithm>

namespace plume::transport {
namespace http = net::http;

namespace {
constexpr std::string_view kAllowMethods = "GET,HEAD,PUT,PATCH,POST,DELETE";
constexpr std::string_view kMaxAge = "86400";
}  // namespace

Cors::Cors(CorsOptions options) : options_(std::move(options)) {
  any_origin_ = std::find(options_.origins.begin(), options_.origins.end(), "*") != options_.origins.end();
}

bool Cors::is_preflight(const net::Request& request) const noexcept {
  return options_.enabled && request.method() == http::verb::options;
}

std::string_view Cors::allowed_origin(std::string_view origin, bool& specific) const noexcept {
  specific = false;
  if (std::find(options_.origins.begin(), options_.origins.end(), origin) != options_.origins.end()) {
    specific = true;
    return origin;
  }
  if (any_origin_) return origin.empty() ? std::string_view("*") : origin;
  return {};
}

void Cors::apply(const net::Request& request, http::fields& headers) const {
  if (!options_.enabled) return;
  std::string_view origin = request[http::field::origin];
  bool specific = false;
  std::string_view allow = allowed_origin(origin, specific);
  if (!origin.empty()) headers.set(http::field::vary, "Origin");
  if (allow.empty()) return;
  headers.set(http::field::access_control_allow_origin, allow);
  // Credentials only for origins named in the allow-list, never for the wildcard.
  if (specific) headers.set(http::field::access_control_allow_credentials, "true");
}

net::StringResponse Cors::preflight(const net::Request& request) const {
  net::StringResponse response{http::status::no_content, request.version()};
  response.keep_alive(request.keep_alive());
  apply(request, response.base());
  response.set(http::field::access_control_allow_methods, kAllowMethods);
  std::string_view requested = request[http::field::access_control_request_headers];
  if (!requested.empty()) {
    response.set(http::field::access_control_allow_headers, requested);
    response.set(http::field::vary, request[http::field::origin].empty()
                                        ? "Access-Control-Request-Headers"
                                        : "Origin, Access-Control-Request-Headers");
  }
  response.set(http::field::access_control_max_age, kMaxAge);
  response.content_length(0);
  return response;
}

}  // namespace plume::transport
