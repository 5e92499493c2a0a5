#include "config/gateway_config.hpp"

#include <plume/config/config.hpp>
#include <plume/core/error.hpp>

namespace plume::config {
namespace {

using namespace plume::gateway;

const Json* member(const JsonObject& object, std::string_view key) { return object.if_contains(key); }

std::string text_of(const Json& value) { return std::string(value.get_string()); }

std::chrono::milliseconds duration_of(const Json& value) {
  return parse_duration(value).value_or(std::chrono::milliseconds(0));
}

RateLimitOptions rate_limit_of(const JsonObject& o) {
  RateLimitOptions limits;
  if (auto v = member(o, "second")) limits.second = v->as_int64();
  if (auto v = member(o, "minute")) limits.minute = v->as_int64();
  if (auto v = member(o, "hour")) limits.hour = v->as_int64();
  if (auto v = member(o, "limit")) limits.limit = v->as_int64();
  if (auto v = member(o, "window")) limits.window = duration_of(*v);
  if (limits.limit > 0 && limits.window.count() == 0) limits.window = std::chrono::minutes(1);
  if (auto v = member(o, "by")) {
    std::string by = text_of(*v);
    limits.by = by == "ip" ? LimitBy::Ip : by == "header" ? LimitBy::Header : LimitBy::Consumer;
  }
  if (auto v = member(o, "header")) limits.header = text_of(*v);
  if (limits.by == LimitBy::Header && limits.header.empty()) {
    throw bad_request("gateway rateLimit with by: header needs `header`: the header whose value is the key");
  }
  if (auto v = member(o, "store"))
    limits.store = text_of(*v) == "redis" ? LimitStore::Redis : LimitStore::Local;
  if (auto v = member(o, "redis")) limits.redis = text_of(*v);
  if (auto v = member(o, "faultTolerant")) limits.fault_tolerant = v->as_bool();
  return limits;
}

RouteOptions route_of(const std::string& key, const Json& value) {
  RouteOptions route;
  route.match = key;
  if (value.is_string()) {
    route.targets.push_back(text_of(value));
    return route;
  }
  const auto& o = value.get_object();
  if (auto v = member(o, "target")) route.targets.push_back(text_of(*v));
  if (auto v = member(o, "targets")) {
    for (const auto& target : v->get_array()) route.targets.push_back(text_of(target));
  }
  if (auto v = member(o, "changeOrigin")) route.change_origin = v->as_bool();
  if (auto v = member(o, "pathRewrite")) {
    for (const auto& [pattern, replacement] : v->get_object()) {
      route.path_rewrite.emplace_back(std::string(pattern), text_of(replacement));
    }
  }
  if (auto v = member(o, "ws")) route.ws = v->as_bool();
  if (auto v = member(o, "xfwd")) route.xfwd = v->as_bool();
  if (auto v = member(o, "forwarded"))
    route.forwarded = text_of(*v) == "keep" ? ForwardedHeader::Keep : ForwardedHeader::Drop;
  if (auto v = member(o, "headers")) {
    for (const auto& [name, header] : v->get_object())
      route.headers.emplace_back(std::string(name), text_of(header));
  }
  if (auto v = member(o, "timeout")) route.timeout = duration_of(*v);
  if (auto v = member(o, "proxyTimeout")) route.proxy_timeout = duration_of(*v);
  if (auto v = member(o, "retries")) route.retries = static_cast<int>(v->as_int64());
  if (auto v = member(o, "auth")) {
    std::string auth = text_of(*v);
    route.auth = auth == "jwt" ? AuthMode::Jwt : auth == "apikey" ? AuthMode::ApiKey : AuthMode::None;
  }
  if (auto v = member(o, "stripAuthorization")) route.strip_authorization = v->as_bool();
  if (auto v = member(o, "rateLimit")) route.rate_limit = rate_limit_of(v->get_object());
  if (auto v = member(o, "healthCheck")) {
    const auto& h = v->get_object();
    if (auto x = member(h, "path")) route.health_check.path = text_of(*x);
    if (auto x = member(h, "interval")) route.health_check.interval = duration_of(*x);
    if (auto x = member(h, "timeout")) route.health_check.timeout = duration_of(*x);
    if (auto x = member(h, "healthy")) route.health_check.healthy = static_cast<int>(x->as_int64());
    if (auto x = member(h, "unhealthy")) route.health_check.unhealthy = static_cast<int>(x->as_int64());
  }
  if (auto v = member(o, "balance")) {
    std::string balance = text_of(*v);
    route.balance = balance == "least-connections" ? Balance::LeastConnections
                    : balance == "hash"            ? Balance::Hash
                                                   : Balance::RoundRobin;
  }
  if (auto v = member(o, "hashOn")) route.hash_on = text_of(*v);
  if (auto v = member(o, "cors")) {
    if (v->is_bool()) {
      if (v->get_bool()) route.cors.emplace();
    } else {
      CorsRouteOptions cors;
      if (auto origins = member(v->get_object(), "origins")) {
        cors.origins.clear();
        if (origins->is_string()) {
          cors.origins.push_back(text_of(*origins));
        } else {
          for (const auto& origin : origins->get_array()) cors.origins.push_back(text_of(origin));
        }
      }
      route.cors = std::move(cors);
    }
  }
  if (auto v = member(o, "bodyLimit")) route.body_limit = parse_size(*v).value_or(0);
  return route;
}

}  // namespace

std::optional<GatewayOptions> gateway_options(const Json& resolved_config) {
  if (!resolved_config.is_object()) return std::nullopt;
  const auto* section = resolved_config.get_object().if_contains("gateway");
  if (section == nullptr || !section->is_object()) return std::nullopt;
  const auto& o = section->get_object();
  GatewayOptions options;
  // `router` is proxyTable's newer name; both may be present, proxyTable's routes first.
  for (const char* table : {"proxyTable", "router"}) {
    if (auto v = member(o, table)) {
      for (const auto& [key, value] : v->get_object())
        options.routes.push_back(route_of(std::string(key), value));
    }
  }
  if (options.routes.empty()) return std::nullopt;
  if (auto v = member(o, "apikeys")) {
    for (const auto& entry : v->get_array()) {
      const auto& key = entry.get_object();
      ApiKey api_key;
      api_key.consumer = text_of(key.at("consumer"));
      if (auto hash = member(key, "sha256")) {
        api_key.sha256 = text_of(*hash);
        for (auto& c : api_key.sha256) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      } else {
        api_key.sha256 = gateway::hash_api_key(text_of(key.at("key")));
      }
      options.apikeys.push_back(std::move(api_key));
    }
  }
  if (auto v = member(o, "apikeyHeader")) options.apikey_header = text_of(*v);
  if (auto v = member(o, "apikeyQuery")) options.apikey_query = text_of(*v);
  if (auto v = member(o, "trustedProxies")) {
    for (const auto& proxy : v->get_array()) options.trusted_proxies.push_back(text_of(proxy));
  }
  if (auto v = member(o, "keepAlive")) {
    const auto& k = v->get_object();
    if (auto x = member(k, "maxIdle")) options.max_idle_per_target = static_cast<std::size_t>(x->as_int64());
    if (auto x = member(k, "idleTimeout")) options.idle_timeout = duration_of(*x);
  }
  if (const auto* logging = resolved_config.get_object().if_contains("logging");
      logging && logging->is_object()) {
    if (auto access = logging->get_object().if_contains("access"); access && access->is_bool()) {
      options.access_log = access->get_bool();
    }
  }
  return options;
}

}  // namespace plume::config
