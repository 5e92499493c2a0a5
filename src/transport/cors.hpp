// Cors answers preflight requests and adds Access-Control-* headers to every reply, as the
// `cors` middleware of a generated Feathers app does, with an origin allow-list.
#pragma once

#include "net/http_types.hpp"

#include <plume/transport/server.hpp>

namespace plume::transport {

class Cors {
 public:
  explicit Cors(CorsOptions options);

  bool enabled() const noexcept { return options_.enabled; }
  // True for OPTIONS requests, which CORS answers itself when enabled.
  bool is_preflight(const net::Request& request) const noexcept;
  // 204 with Allow-Methods, Allow-Headers (the requested ones) and Max-Age.
  net::StringResponse preflight(const net::Request& request) const;
  // Access-Control-Allow-Origin (and Credentials, Vary) on a reply.
  void apply(const net::Request& request, net::http::fields& headers) const;

 private:
  // The Allow-Origin value for a request's Origin, empty when the origin is not allowed.
  std::string_view allowed_origin(std::string_view origin, bool& specific) const noexcept;

  CorsOptions options_;
  bool any_origin_ = false;
};

}  // namespace plume::transport
