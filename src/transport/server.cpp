// Server wires the REST transport onto the HTTP server: the node's probes, CORS, service calls,
// static files and the 404 reply, in that order, with metrics and the access log around them.
#include <plume/transport/server.hpp>

#include "net/http_server.hpp"
#include "net/static_files.hpp"
#include "transport/admin_access.hpp"
#include "transport/cors.hpp"
#include "transport/http_metrics.hpp"
#include "transport/probes.hpp"
#include "transport/rest/rest_call.hpp"
#include "transport/server_routes.hpp"
#include "transport/socketio/socketio_endpoint.hpp"

#include <plume/core/error.hpp>
#include <plume/core/metrics.hpp>

#include <spdlog/spdlog.h>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <thread>

namespace plume::transport {
namespace http = net::http;

namespace {

std::string_view strip_slashes(std::string_view path) {
  while (!path.empty() && path.front() == '/') path.remove_prefix(1);
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  return path;
}

std::size_t body_bytes(const net::Response& response) {
  if (auto* json = std::get_if<net::StringResponse>(&response)) return json->body().size();
  if (auto* file = std::get_if<net::FileResponse>(&response)) return file->body().size();
  return 0;
}

// Metrics label values come from what the node serves, never from the request: a method token
// Beast does not know is "other", as is a request that reached none of the node's endpoints.
std::string verb_label(const net::Request& request) {
  if (request.method() == http::verb::unknown) return "other";
  return std::string(request.method_string());
}

int status_of(const net::Response& response) {
  return std::visit(
      [](const auto& r) {
        if constexpr (std::is_same_v<std::decay_t<decltype(r)>, net::Upgrade>) {
          return 101;
        } else {
          return static_cast<int>(r.result_int());
        }
      },
      response);
}

// The HTTP server's settings for one listener of the node: the node's limits and timeouts.
net::HttpServerOptions http_options_of(const ServerOptions& o, const std::string& host, std::uint16_t port,
                                       std::size_t threads, std::size_t max_connections) {
  return {
      .host = host,
      .port = port,
      .threads = threads,
      .body_limit = o.body_limit,
      .header_limit = o.header_limit,
      .header_timeout = o.header_timeout,
      .body_timeout = o.body_timeout,
      .idle_timeout = o.idle_timeout,
      .shutdown_grace = o.shutdown_grace,
      .max_connections = max_connections,
  };
}

}  // namespace

struct Server::Impl {
  Impl(App& app_ref, ServerOptions server_options)
      : app(app_ref),
        options(std::move(server_options)),
        threads(options.threads == 0 ? std::max(1u, std::thread::hardware_concurrency()) : options.threads),
        cors(options.cors),
        metrics(threads),
        admin_access(options.admin) {
    if (options.public_dir) static_files.emplace(*options.public_dir);
    if (options.socketio.enabled) socketio.emplace(app, options.socketio);
  }

  // `admin`: the request came on the admin listener, which serves the probes and admin paths.
  Task<net::Response> handle(net::Request& request, const net::ConnectionInfo& connection, bool admin);
  // The streaming route that takes a request, when the first route to match it streams.
  const net::StreamHandler* select_stream(const net::Request& head) const;
  // The reply before CORS headers; `service` and `method` name the call for metrics.
  Task<net::Response> route(net::Request& request, const net::ConnectionInfo& connection,
                            std::string_view path, std::string_view query, std::string& service,
                            std::string& method, bool admin);

  App& app;
  ServerOptions options;
  std::size_t threads;
  Cors cors;
  HttpMetrics metrics;
  ReadinessChecks readiness;
  AdminAccess admin_access;
  std::optional<net::StaticFiles> static_files;
  std::vector<Route> routes;
  // Declared before the HTTP server: its sessions run on the server's threads.
  std::optional<socketio::SocketIoEndpoint> socketio;
  std::unique_ptr<net::HttpServer> http;
  std::unique_ptr<net::HttpServer> admin_http;
};

Task<net::Response> Server::Impl::handle(net::Request& request, const net::ConnectionInfo& connection,
                                         bool admin) {
  auto started = std::chrono::steady_clock::now();
  // The session admitted the head before this (net/request_head.hpp): the target is origin-form
  // with a normalised path, so a route's prefix means the same here, in select_stream and to
  // whatever the route hands the request on to.
  std::string_view target = request.target();
  auto question = target.find('?');
  std::string_view path = target.substr(0, question);
  std::string_view query =
      question == std::string_view::npos ? std::string_view{} : target.substr(question + 1);

  std::string service;
  std::string method;
  net::Response response;
  try {
    response = co_await route(request, connection, path, query, service, method, admin);
  } catch (...) {
    auto error = Error::from_exception(std::current_exception());
    if (error.status() >= 500) {
      spdlog::error("event=request_failed service={} method={} target={} status={} error=\"{}\"", service,
                    method, target, error.status(), error.message());
    }
    response = net::error_response(error, request.version(), request.keep_alive());
  }
  if (service.empty()) service = "other";
  if (method.empty()) method = verb_label(request);

  std::visit(
      [&](auto& r) {
        using R = std::decay_t<decltype(r)>;
        if constexpr (!std::is_same_v<R, net::Upgrade>) cors.apply(request, r.base());
        // HEAD: the headers GET would send, Content-Length included, and no body.
        if constexpr (std::is_same_v<R, net::StringResponse>) {
          if (request.method() == http::verb::head && !r.body().empty()) r.body().clear();
        }
      },
      response);

  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  int status = status_of(response);
  metrics.record(service, method, status, seconds);
  if (options.access_log) {
    spdlog::info("event=http_request method={} path={} status={} bytes={} duration_ms={:.3f} remote={}",
                 std::string_view(request.method_string()), path, status, body_bytes(response),
                 seconds * 1000.0, connection.remote);
  }
  co_return response;
}

Task<net::Response> Server::Impl::route(net::Request& request, const net::ConnectionInfo& connection,
                                        std::string_view path, std::string_view query, std::string& service,
                                        std::string& method, bool admin) {
  if (cors.is_preflight(request)) co_return cors.preflight(request);
  if (!admin && is_admin_path(path)) admin_access.check(request, connection);

  bool is_read = request.method() == http::verb::get || request.method() == http::verb::head;
  if (is_read) {
    if (path == "/healthz" || path == "/readyz" || path == "/metrics") service = path;
    if (path == "/healthz") co_return health_response(request);
    if (path == "/readyz") co_return readiness_response(request, readiness);
    if (path == "/metrics") {
      co_return metrics_response(request,
                                 MetricsRegistry::global().render() +
                                     metrics.render(http->requests_in_flight(), http->connections()));
    }
  }

  if (admin) {
    // The admin listener: the probes above and the mesh's node list, nothing else.
    auto match = is_admin_path(path) ? app.lookup(strip_slashes(path)) : std::nullopt;
    if (!match) throw not_found("Page not found", JsonObject{{"url", request.target()}});
    service = match->entry->path();
    co_return co_await call_service(app, *match, request, query, connection, method);
  }

  for (const Route& extra : routes) {
    if (route_matches(extra, request, path)) {
      service = extra.path;
      co_return co_await extra.handler(request, connection);
    }
  }

  if (socketio && path == socketio::kSocketIoPath) {
    service = "socket.io";
    co_return co_await socketio->handle(request, connection, query);
  }

  if (auto match = app.lookup(strip_slashes(path))) {
    service = match->entry->path();
    co_return co_await call_service(app, *match, request, query, connection, method);
  }

  if (is_read && static_files) {
    if (auto file = static_files->serve(request, path)) {
      service = "public";
      co_return std::move(*file);
    }
  }
  throw not_found("Page not found", JsonObject{{"url", request.target()}});
}

const net::StreamHandler* Server::Impl::select_stream(const net::Request& head) const {
  std::string_view target = head.target();
  std::string_view path = target.substr(0, target.find('?'));
  if ((head.method() == http::verb::get || head.method() == http::verb::head) &&
      (path == "/healthz" || path == "/readyz" || path == "/metrics")) {
    return nullptr;
  }
  for (const Route& extra : routes) {
    if (route_matches(extra, head, path)) return extra.stream ? &extra.stream : nullptr;
  }
  return nullptr;
}

void add_route(Server& server, Route route) { server.impl_->routes.push_back(std::move(route)); }

bool route_matches(const Route& route, const net::Request& request, std::string_view path) {
  if (route.accepts) return route.accepts(request, path);
  if (!route.prefix) return path == route.path;
  if (!path.starts_with(route.path)) return false;
  return path.size() == route.path.size() || route.path.ends_with('/') || path[route.path.size()] == '/';
}

Server::Server(App& app, ServerOptions options) : impl_(std::make_unique<Impl>(app, std::move(options))) {}

Server::~Server() {
  if (impl_->http) {
    if (impl_->socketio) impl_->socketio->close_all();
    impl_->http->stop();
    impl_->http->wait();
  }
  if (impl_->admin_http) {
    impl_->admin_http->stop();
    impl_->admin_http->wait();
  }
}

void Server::add_readiness_check(std::string name, ReadinessCheck check) {
  impl_->readiness.add(std::move(name), std::move(check));
}

std::uint16_t Server::start() {
  const ServerOptions& o = impl_->options;
  net::HttpServerOptions http_options = http_options_of(o, o.host, o.port, impl_->threads, o.max_connections);
  http_options.thread_init = [impl = impl_.get()](std::size_t index) { impl->metrics.bind_thread(index); };
  bool any_stream = std::any_of(impl_->routes.begin(), impl_->routes.end(),
                                [](const Route& route) { return static_cast<bool>(route.stream); });
  if (any_stream) {
    http_options.select_stream = [impl = impl_.get()](const net::Request& head) {
      return impl->select_stream(head);
    };
  }
  impl_->http = std::make_unique<net::HttpServer>(
      std::move(http_options),
      [impl = impl_.get()](net::Request& request, const net::ConnectionInfo& connection) {
        return impl->handle(request, connection, false);
      });
  const std::uint16_t port = impl_->http->start();
  if (o.admin.port) {
    // One thread: scrapes and probes are rare and small.
    net::HttpServerOptions admin_options = http_options_of(o, o.admin.host, *o.admin.port, 1, 64);
    impl_->admin_http = std::make_unique<net::HttpServer>(
        std::move(admin_options),
        [impl = impl_.get()](net::Request& request, const net::ConnectionInfo& connection) {
          return impl->handle(request, connection, true);
        });
    impl_->admin_http->start();
  }
  return port;
}

std::uint16_t Server::port() const noexcept { return impl_->http ? impl_->http->port() : 0; }

std::uint16_t Server::admin_port() const noexcept {
  return impl_->admin_http ? impl_->admin_http->port() : 0;
}

void Server::stop() {
  if (!impl_->http) return;
  // Sessions first: parked polls answer with the close packet and WebSockets close before the
  // HTTP server waits for its connections to drain.
  if (impl_->socketio) impl_->socketio->close_all();
  impl_->http->stop();
  if (impl_->admin_http) impl_->admin_http->stop();
}

void Server::wait() {
  if (impl_->http) impl_->http->wait();
  if (impl_->admin_http) impl_->admin_http->wait();
}

}  // namespace plume::transport
