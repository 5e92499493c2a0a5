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
  return json_response(static_cast<http::status>(error.status()), plume::to_json_text(error.to_json()),
                       version, keep_alive);
}

}  // namespace plume::net
