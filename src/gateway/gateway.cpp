#include <plume/gateway/gateway.hpp>

#include "gateway/gateway_state.hpp"
#include "gateway/health_check.hpp"
#include "gateway/redis_limit_store.hpp"
#include "transport/server_routes.hpp"

#include <plume/core/error.hpp>

#include <spdlog/spdlog.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include <algorithm>
#include <charconv>
#include <map>

namespace plume::gateway {
namespace asio = boost::asio;

bool AddressBlock::contains(const asio::ip::address& address) const {
  auto bytes_of = [](const asio::ip::address& a) {
    std::array<unsigned char, 16> out{};
    if (a.is_v4()) {
      // IPv4 as its IPv4-mapped IPv6 form, so that both families compare alike.
      auto v4 = a.to_v4().to_bytes();
      out[10] = out[11] = 0xff;
      std::copy(v4.begin(), v4.end(), out.begin() + 12);
    } else {
      auto v6 = a.to_v6().to_bytes();
      std::copy(v6.begin(), v6.end(), out.begin());
    }
    return out;
  };
  auto a = bytes_of(address);
  auto n = bytes_of(network);
  unsigned bits = network.is_v4() ? prefix + 96 : prefix;
  for (unsigned i = 0; i < 16 && bits > 0; ++i) {
    unsigned take = std::min(8u, bits);
    unsigned char mask = static_cast<unsigned char>(0xff << (8 - take));
    if ((a[i] & mask) != (n[i] & mask)) return false;
    bits -= take;
  }
  return true;
}

AddressBlock parse_address_block(std::string_view text) {
  auto slash = text.find('/');
  boost::system::error_code ec;
  AddressBlock block;
  block.network = asio::ip::make_address(text.substr(0, slash), ec);
  if (ec)
    throw bad_request("gateway.trustedProxies: \"" + std::string(text) +
                      "\" is not an IP address or CIDR block");
  const unsigned max = block.network.is_v4() ? 32 : 128;
  block.prefix = max;
  if (slash != std::string_view::npos) {
    auto digits = text.substr(slash + 1);
    auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), block.prefix);
    if (error != std::errc() || end != digits.data() + digits.size() || block.prefix > max) {
      throw bad_request("gateway.trustedProxies: \"" + std::string(text) + "\" has an invalid prefix length");
    }
  }
  return block;
}

int Gateway::State::match(std::string_view host, std::string_view path) const {
  for (std::size_t i = 0; i < routes.size(); ++i) {
    if (route_key_matches(routes[i].key, host, path)) return static_cast<int>(i);
  }
  return -1;
}

namespace {

std::vector<Period> periods_of(const RateLimitOptions& limits) {
  std::vector<Period> periods;
  if (limits.second > 0) periods.push_back({"second", 1'000'000, limits.second});
  if (limits.minute > 0) periods.push_back({"minute", 60'000'000, limits.minute});
  if (limits.hour > 0) periods.push_back({"hour", 3'600'000'000, limits.hour});
  if (limits.limit > 0 && limits.window.count() > 0)
    periods.push_back({"window", limits.window.count() * 1000, limits.limit});
  return periods;
}

}  // namespace

Gateway::Gateway(App& app, transport::Server& server, GatewayOptions options,
                 const std::optional<auth::AuthenticationOptions>& authentication)
    : state_(std::make_shared<State>()) {
  State& state = *state_;
  state.options = std::move(options);
  if (authentication && !authentication->secret.empty()) {
    state.jwt = authentication->jwt;
    if (state.jwt->secret.empty()) state.jwt->secret = authentication->secret;
  }
  for (const auto& key : state.options.apikeys) state.apikeys[key.sha256] = key.consumer;
  for (const auto& block : state.options.trusted_proxies)
    state.trusted_proxies.push_back(parse_address_block(block));

  // Routes with the same Redis URL share one connection.
  std::map<std::string, std::shared_ptr<RedisLimitStore>> redis_stores;
  auto local_store = std::make_shared<LocalLimitStore>();
  for (const auto& route_options : state.options.routes) {
    CompiledRoute route;
    route.options = route_options;
    route.key = parse_route_key(route_options.match);
    if (route_options.targets.empty()) {
      throw bad_request("gateway route \"" + route_options.match + "\" has no target: set target or targets");
    }
    try {
      route.rewriter = PathRewriter(route_options.path_rewrite);
    } catch (const std::invalid_argument& error) {
      throw bad_request("gateway route \"" + route_options.match +
                        "\": a pathRewrite pattern is not a valid regular "
                        "expression (" +
                        error.what() + ")");
    }
    std::vector<std::shared_ptr<Target>> targets;
    for (const auto& url : route_options.targets) {
      targets.push_back(std::make_shared<Target>(parse_target(url), route_options.health_check,
                                                 state.options.max_idle_per_target,
                                                 state.options.idle_timeout));
    }
    const int others = static_cast<int>(targets.size()) - 1;
    route.retries = route_options.retries.value_or(std::min(others, 3));
    route.balancer = std::make_unique<Balancer>(std::move(targets), route_options.balance);
    if (route_options.auth == AuthMode::Jwt && !state.jwt) {
      throw bad_request("gateway route \"" + route_options.match +
                        "\" uses auth: jwt, which needs authentication.secret");
    }
    if (route_options.rate_limit) {
      route.periods = periods_of(*route_options.rate_limit);
      route.limit_prefix = "plume:ratelimit:" + route_options.match + ":";
      if (route_options.rate_limit->store == LimitStore::Redis) {
        auto& store = redis_stores[route_options.rate_limit->redis];
        if (!store)
          store =
              std::make_shared<RedisLimitStore>(state.ioc.get_executor(), route_options.rate_limit->redis);
        route.limit_store = store;
        if (!route_options.rate_limit->fault_tolerant) {
          state.readiness_checks.push_back([store, url = route_options.rate_limit->redis]() -> std::string {
            return store->connected() ? "" : "rate-limit Redis at " + url + " is not connected";
          });
        }
      } else {
        route.limit_store = local_store;
      }
    }
    state.routes.push_back(std::move(route));
  }
  for (auto& [url, store] : redis_stores) {
    state.closers.push_back([store] { store->close(); });
  }

  if (!state.routes.empty()) {
    transport::Route route;
    route.path = "gateway";
    route.accepts = [weak = std::weak_ptr<State>(state_)](const net::Request& request,
                                                          std::string_view path) {
      auto shared = weak.lock();
      return shared && shared->match(request[net::http::field::host], path) >= 0;
    };
    route.stream = [shared = state_](net::StreamExchange& exchange) {
      return serve_exchange(shared, exchange);
    };
    transport::add_route(server, std::move(route));
  }
  server.add_readiness_check("gateway", [weak = std::weak_ptr<State>(state_)]() -> std::string {
    auto shared = weak.lock();
    if (!shared) return "";
    for (const auto& check : shared->readiness_checks) {
      if (auto why = check(); !why.empty()) return why;
    }
    return "";
  });
  (void)app;
}

Gateway::~Gateway() { stop(); }

void Gateway::start() {
  State& state = *state_;
  if (state.started.exchange(true)) return;
  state.work.emplace(state.ioc.get_executor());
  for (auto& route : state.routes) {
    if (route.options.health_check.path.empty()) continue;
    for (const auto& target : route.balancer->targets()) {
      asio::co_spawn(state.ioc, run_health_checks(&state, target, route.options.health_check),
                     asio::detached);
    }
  }
  state.thread = std::thread([&state] { state.ioc.run(); });
  spdlog::info("event=gateway_started routes={}", state.routes.size());
}

void Gateway::stop() {
  State& state = *state_;
  if (state.stopped.exchange(true)) return;
  for (auto& close : state.closers) close();
  for (auto& route : state.routes) {
    for (const auto& target : route.balancer->targets()) {
      target->set_closed();
      target->close_idle();
    }
  }
  state.work.reset();
  state.ioc.stop();
  if (state.thread.joinable()) state.thread.join();
}

std::string Gateway::readiness() const {
  if (!state_->started.load()) return "gateway not started";
  for (const auto& check : state_->readiness_checks) {
    if (auto why = check(); !why.empty()) return why;
  }
  return "";
}

}  // namespace plume::gateway
