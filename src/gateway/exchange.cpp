// The gateway's side of a request before the upstream: route match, request id, client IP,
// CORS preflight, authentication, rate limits and the body limit, then the upstream exchange.
#include "gateway/exchange.hpp"

#include "gateway/gateway_auth.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>

#include <limits>
#include <random>

namespace plume::gateway {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = net::http;

namespace {

constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);
constexpr std::chrono::milliseconds kDefaultClientTimeout{60'000};

// 24 hex digits: a random per-thread prefix and a counter; unique without a random draw per
// request.
std::string new_request_id() {
  thread_local std::uint64_t prefix = std::random_device{}() | (std::uint64_t(std::random_device{}()) << 32);
  thread_local std::uint32_t counter = 0;
  char text[25];
  std::snprintf(text, sizeof text, "%016llx%08x", static_cast<unsigned long long>(prefix), ++counter);
  return text;
}

std::string ip_of(std::string_view remote) {
  // "1.2.3.4:5678" or "::1:5678" (Asio prints IPv6 without brackets).
  auto colon = remote.rfind(':');
  return std::string(colon == std::string_view::npos ? remote : remote.substr(0, colon));
}

bool is_trusted(const Gateway::State& state, const asio::ip::address& address) {
  for (const auto& block : state.trusted_proxies) {
    if (block.contains(address)) return true;
  }
  return false;
}

bool is_trusted(const Gateway::State& state, std::string_view ip) {
  if (state.trusted_proxies.empty()) return false;
  boost::system::error_code ec;
  auto address = asio::ip::make_address(ip, ec);
  if (ec) return false;
  return is_trusted(state, address);
}

// The client is the last address in X-Forwarded-For that is not a trusted proxy, reading from
// the right (the entries on the left are whatever the client claimed). A token that is no IP
// address ends the walk: what lies left of it cannot be told apart from a client's invention,
// so the client is the last address found (the peer when there is none).
std::string client_ip_of(const Gateway::State& state, const http::fields& fields, const std::string& peer) {
  if (!is_trusted(state, peer)) return peer;
  std::string_view forwarded = fields["X-Forwarded-For"];
  std::string client = peer;
  while (!forwarded.empty()) {
    auto comma = forwarded.rfind(',');
    std::string_view hop = comma == std::string_view::npos ? forwarded : forwarded.substr(comma + 1);
    forwarded = comma == std::string_view::npos ? std::string_view{} : forwarded.substr(0, comma);
    while (!hop.empty() && (hop.front() == ' ' || hop.front() == '\t')) hop.remove_prefix(1);
    while (!hop.empty() && (hop.back() == ' ' || hop.back() == '\t')) hop.remove_suffix(1);
    if (hop.empty()) continue;
    boost::system::error_code ec;
    auto address = asio::ip::make_address(hop, ec);
    if (ec) break;
    client = address.to_string();
    if (!is_trusted(state, address)) break;
  }
  return client;
}

// The target without the query parameters named `key` (the others keep their encoding).
std::string without_query_parameter(const std::string& target, std::string_view key) {
  if (target.find('?') == std::string::npos) return target;
  auto parsed = boost::urls::parse_origin_form(target);
  if (!parsed) return target;
  boost::urls::url url(*parsed);
  url.params().erase(key);
  if (url.params().empty()) url.remove_query();
  return std::string(url.encoded_resource());
}

// The allowed origin to echo, or empty.
std::string cors_origin(const CorsRouteOptions& cors, std::string_view origin) {
  if (origin.empty()) return {};
  for (const auto& allowed : cors.origins) {
    if (allowed == "*" || beast::iequals(allowed, origin)) return std::string(origin);
  }
  return {};
}

std::string limit_key(const Exchange& exchange, const Identity& identity, const http::fields& fields) {
  const auto& limits = *exchange.route.options.rate_limit;
  switch (limits.by) {
    case LimitBy::Consumer:
      // Kong's order: the consumer, else the client's IP.
      if (!identity.consumer.empty()) return "consumer:" + identity.consumer;
      return "ip:" + exchange.client_ip;
    case LimitBy::Ip:
      return "ip:" + exchange.client_ip;
    case LimitBy::Header:
      return "header:" + std::string(fields[limits.header]);
  }
  return {};
}

void log_exchange(const Exchange& exchange, std::string_view method, std::string_view target,
                  std::chrono::steady_clock::time_point started) {
  if (!exchange.state.options.access_log) return;
  double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
  spdlog::info(
      "event=gateway_request request_id={} method={} target={} route={} upstream={} status={} "
      "duration_ms={:.3f} "
      "client={}{}{}",
      exchange.request_id, method, target, exchange.route.options.match, exchange.target_url, exchange.status,
      ms, exchange.client_ip, exchange.error.empty() ? "" : " error=\"",
      exchange.error.empty() ? "" : exchange.error + "\"");
}

}  // namespace

void prepare_upstream_request(Exchange& exchange, const TargetAddress& target) {
  auto& request = exchange.client.parser.get();
  const auto& options = exchange.route.options;
  std::string rewritten = exchange.route.rewriter.empty()
                              ? exchange.upstream_target
                              : exchange.route.rewriter.apply(exchange.upstream_target);
  request.target(join_upstream_target(target.base_path, rewritten));
  // HTTP/1.1 upstream whatever the client spoke, so that the connection can be kept alive.
  request.version(11);
  // The gateway frames the body it sends: the session admitted only chunked or Content-Length,
  // and the serializer writes chunks anew for a chunked body.
  if (exchange.client.parser.chunked()) {
    request.erase(http::field::transfer_encoding);
    request.chunked(true);
  }
  if (options.change_origin) request.set(http::field::host, target.host_header);
}

Task<bool> serve_exchange(std::shared_ptr<Gateway::State> state, net::StreamExchange& client) {
  const auto started = std::chrono::steady_clock::now();
  auto& request = client.parser.get();
  std::string_view full_target = request.target();
  std::string_view path = full_target.substr(0, full_target.find('?'));
  const int index = state->match(request[http::field::host], path);
  if (index < 0 || state->stopped.load()) {
    // The selector matched the route table a moment ago; only a stop gets here.
    Exchange stopping(*state, client, state->routes.front());
    stopping.request_id = new_request_id();
    auto op = reply_error(stopping, unavailable("The gateway is stopping"));
    co_return co_await std::move(op);
  }
  const CompiledRoute& route = state->routes[index];
  Exchange exchange(*state, client, route);
  exchange.client_timeout = route.options.timeout.count() > 0 ? route.options.timeout : kDefaultClientTimeout;
  exchange.head = request.method() == http::verb::head;
  exchange.client_keep_alive = request.keep_alive() && request.version() >= 11;
  exchange.peer_ip = ip_of(client.connection.remote);
  exchange.client_ip = client_ip_of(*state, request, exchange.peer_ip);
  if (auto id = request["X-Request-Id"]; !id.empty() && id.size() <= 200) {
    exchange.request_id = std::string(id);
  } else {
    exchange.request_id = new_request_id();
    request.set("X-Request-Id", exchange.request_id);
  }
  const std::string method(request.method_string());
  exchange.original_target = std::string(full_target);
  exchange.upstream_target = exchange.original_target;
  const std::string& target_for_log = exchange.original_target;
  client.parser.body_limit(route.options.body_limit > 0 ? route.options.body_limit
                                                        : std::numeric_limits<std::uint64_t>::max());

  auto finish = [&](bool reusable) {
    log_exchange(exchange, method, target_for_log, started);
    return reusable;
  };

  // CORS: answer preflights here; other replies carry the allowed origin.
  if (route.options.cors) {
    std::string origin = cors_origin(*route.options.cors, request[http::field::origin]);
    if (request.method() == http::verb::options &&
        request.find(http::field::access_control_request_method) != request.end()) {
      Headers headers;
      if (!origin.empty()) {
        headers = {{"Access-Control-Allow-Origin", origin},
                   {"Vary", "Origin"},
                   {"Access-Control-Allow-Methods", "GET,HEAD,PUT,PATCH,POST,DELETE"},
                   {"Access-Control-Max-Age", "86400"}};
        if (auto wanted = request[http::field::access_control_request_headers]; !wanted.empty()) {
          headers.emplace_back("Access-Control-Allow-Headers", std::string(wanted));
        }
      }
      auto op = reply(exchange, http::status::no_content, "", headers);
      co_return finish(co_await std::move(op));
    }
    if (!origin.empty()) {
      exchange.response_headers.emplace_back("Access-Control-Allow-Origin", origin);
      exchange.response_headers.emplace_back("Vary", "Origin");
    }
  }

  Identity identity;
  std::optional<Error> refused;
  try {
    identity = authenticate(*state, route, request, exchange.original_target);
  } catch (const Error& error) {
    refused = error;
  }
  if (refused) {
    auto op = reply_error(exchange, *refused);
    co_return finish(co_await std::move(op));
  }

  if (route.options.rate_limit && !route.periods.empty()) {
    const std::string key = route.limit_prefix + limit_key(exchange, identity, request);
    std::optional<LimitDecision> decision;
    std::string store_error;
    try {
      auto op = route.limit_store->hit(key, route.periods);
      decision = co_await std::move(op);
    } catch (const std::exception& error) {
      store_error = error.what();
    }
    if (!decision) {
      if (!route.options.rate_limit->fault_tolerant) {
        spdlog::error("event=rate_limit_store_failed request_id={} route={} error=\"{}\"",
                      exchange.request_id, route.options.match, store_error);
        auto op = reply_error(exchange, unavailable("Rate limiting is unavailable: " + store_error));
        co_return finish(co_await std::move(op));
      }
      spdlog::warn("event=rate_limit_store_failed request_id={} route={} error=\"{}\" action=allowed",
                   exchange.request_id, route.options.match, store_error);
    } else {
      for (auto& header : rate_limit_headers(*decision, route.periods)) {
        exchange.response_headers.push_back(std::move(header));
      }
      if (!decision->allowed) {
        auto op = reply_error(exchange, too_many_requests("API rate limit exceeded"));
        co_return finish(co_await std::move(op));
      }
    }
  }

  if (route.options.body_limit > 0) {
    if (auto length = client.parser.content_length(); length && *length > route.options.body_limit) {
      auto op = reply_error(exchange, payload_too_large("Request body is larger than " +
                                                        std::to_string(route.options.body_limit) + " bytes"));
      co_return finish(co_await std::move(op));
    }
  }

  // The identity the gateway vouches for, and nothing a client claims in its place.
  for (auto it = request.begin(); it != request.end();) {
    if (beast::iequals(it->name_string().substr(0, std::min<std::size_t>(11, it->name_string().size())),
                       "x-consumer-") ||
        beast::iequals(it->name_string(), "x-credential-identifier")) {
      it = request.erase(it);
    } else {
      ++it;
    }
  }
  for (const auto& [name, value] : identity.headers) request.set(name, value);
  if (route.options.strip_authorization) {
    request.erase(http::field::authorization);
    request.erase(state->options.apikey_header);
    // A key in the query would otherwise reach the upstream, and its access log.
    if (route.options.auth == AuthMode::ApiKey) {
      exchange.upstream_target =
          without_query_parameter(exchange.upstream_target, state->options.apikey_query);
    }
  }
  // The gateway writes no Forwarded header of its own, so a client's would reach the upstream as
  // if the gateway vouched for it.
  if (route.options.forwarded == ForwardedHeader::Drop) request.erase(http::field::forwarded);

  const bool upgrade = beast::iequals(request[http::field::upgrade], "websocket");
  remove_hop_by_hop(request, upgrade && route.options.ws);
  if (route.options.xfwd) {
    std::string forwarded(request["X-Forwarded-For"]);
    request.set("X-Forwarded-For",
                forwarded.empty() ? exchange.peer_ip : forwarded + ", " + exchange.peer_ip);
    const bool trusted = is_trusted(*state, exchange.peer_ip);
    if (!trusted || request.find("X-Forwarded-Proto") == request.end())
      request.set("X-Forwarded-Proto", "http");
    if (!trusted || request.find("X-Forwarded-Host") == request.end()) {
      request.set("X-Forwarded-Host", std::string(request[http::field::host]));
    }
    request.set("X-Real-IP", exchange.client_ip);
  } else {
    // Without xfwd the gateway says nothing about the client, and lets no client say it instead.
    request.erase("X-Real-IP");
  }
  for (const auto& [name, value] : route.options.headers) request.set(name, value);

  // RFC 9110 10.1.1: the client waits for 100 Continue before sending its body; the gateway
  // answers it itself once the request is admitted, and the upstream sees no Expect.
  if (beast::iequals(request[http::field::expect], "100-continue")) {
    request.erase(http::field::expect);
    if (!client.parser.is_done()) {
      static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      client.session.expires_after(exchange.client_timeout);
      auto [ec, n] = co_await asio::async_write(client.socket, asio::buffer(kContinue), kUseTuple);
      if (ec) co_return finish(false);
    }
  }

  if (upgrade) {
    if (!route.options.ws) {
      auto op = reply_error(exchange, bad_request("WebSocket upgrades are not proxied on " +
                                                  route.options.match + " (set ws: true on the route)"));
      co_return finish(co_await std::move(op));
    }
    auto op = proxy_websocket(exchange);
    co_return finish(co_await std::move(op));
  }
  auto op = proxy_http(exchange);
  bool reusable = co_await std::move(op);
  co_return finish(reusable);
}

}  // namespace plume::gateway
