// The node's own endpoints: GET /healthz (the process answers), GET /readyz (every readiness
// check passes, else 503 naming the failing ones) and GET /metrics (Prometheus text).
#pragma once

#include "net/http_types.hpp"

#include <plume/transport/server.hpp>

#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace plume::transport {

class ReadinessChecks {
 public:
  void add(std::string name, ReadinessCheck check);
  // {"status":"ready"} or {"status":"not ready","checks":{name: reason}}; ready tells which.
  Json evaluate(bool& ready) const;

 private:
  mutable std::mutex mutex_;
  std::vector<std::pair<std::string, ReadinessCheck>> checks_;
};

net::StringResponse health_response(const net::Request& request);
net::StringResponse readiness_response(const net::Request& request, const ReadinessChecks& checks);
net::StringResponse metrics_response(const net::Request& request, std::string text);

}  // namespace plume::transport
