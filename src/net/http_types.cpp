#include "net/http_types.hpp"

#include <boost/json/serialize.hpp>

namespace plume::net {

StringResponse json_response(http::status status, std::string body, unsigned version, bool keep_alive) {
  StringResponse response{status, version};
  response.set(http::field::content_type, kJsonContentType);
  response.body() = std::move(body);
  response.keep_alive(keep_alive);
  response.prepare_payload();
  return response;
}

StringResponse error_response(const Error& error, unsigned version, bool keep_alive) {
  StringResponse response = json_response(static_cast<http::status>(error.status()),
                                          plume::to_json_text(error.to_json()), version, keep_alive);
  // A 429 or 503 that says when to come back ({data: {retryAfter: seconds}}) says it to HTTP
  // clients too (RFC 9110 Retry-After).
  if (error.status() == 429 || error.status() == 503) {
    if (const auto* data = error.data().if_object()) {
      if (const auto* seconds = data->if_contains("retryAfter"); seconds != nullptr && seconds->is_int64()) {
        response.set(http::field::retry_after, std::to_string(seconds->get_int64()));
      }
    }
  }
  return response;
}

}  // namespace plume::net
