#include "transport/probes.hpp"

#include <plume/core/json.hpp>

#include <exception>

namespace plume::transport {
namespace http = net::http;

void ReadinessChecks::add(std::string name, ReadinessCheck check) {
  std::lock_guard lock(mutex_);
  checks_.emplace_back(std::move(name), std::move(check));
}

Json ReadinessChecks::evaluate(bool& ready) const {
  std::vector<std::pair<std::string, ReadinessCheck>> checks;
  {
    std::lock_guard lock(mutex_);
    checks = checks_;
  }
  JsonObject failing;
  for (const auto& [name, check] : checks) {
    std::string reason;
    try {
      reason = check();
    } catch (const std::exception& error) {
      reason = error.what();
      if (reason.empty()) reason = "check failed";
    }
    if (!reason.empty()) failing[name] = reason;
  }
  ready = failing.empty();
  if (ready) return JsonObject{{"status", "ready"}};
  return JsonObject{{"status", "not ready"}, {"checks", std::move(failing)}};
}

net::StringResponse health_response(const net::Request& request) {
  return net::json_response(http::status::ok, R"({"status":"ok"})", request.version(), request.keep_alive());
}

net::StringResponse readiness_response(const net::Request& request, const ReadinessChecks& checks) {
  bool ready = false;
  Json body = checks.evaluate(ready);
  return net::json_response(ready ? http::status::ok : http::status::service_unavailable, to_json_text(body),
                            request.version(), request.keep_alive());
}

net::StringResponse metrics_response(const net::Request& request, std::string text) {
  net::StringResponse response{http::status::ok, request.version()};
  response.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
  response.body() = std::move(text);
  response.keep_alive(request.keep_alive());
  response.prepare_payload();
  return response;
}

}  // namespace plume::transport
