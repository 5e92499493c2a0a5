// Test support for the gateway: a small Beast upstream on its own thread (echo, delays,
// statuses, streamed uploads and downloads, a WebSocket echo) that can be stopped and started
// again on the same port, and a node that runs a Gateway in front of it.
#pragma once

#include "test_server.hpp"

#include <plume/gateway/gateway.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json/serialize.hpp>
#include <boost/url/parse.hpp>

#include <atomic>
#include <list>
#include <mutex>
#include <thread>

namespace plume::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;

class Upstream {
 public:
  explicit Upstream(std::string name, std::uint16_t port = 0) : name_(std::move(name)) { start(port); }
  ~Upstream() { stop(); }

  std::uint16_t port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int connections() const { return connections_.load(); }
  int requests() const { return requests_.load(); }
  std::size_t upload_reads() const { return upload_reads_.load(); }
  std::size_t upload_bytes() const { return upload_bytes_.load(); }
  bool running() const { return running_; }

  void start(std::uint16_t port) {
    ioc_ = std::make_unique<asio::io_context>(1);
    acceptor_ = std::make_unique<asio::ip::tcp::acceptor>(*ioc_);
    asio::ip::tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), port);
    acceptor_->open(endpoint.protocol());
    acceptor_->set_option(asio::ip::tcp::acceptor::reuse_address(true));
    acceptor_->bind(endpoint);
    acceptor_->listen();
    port_ = acceptor_->local_endpoint().port();
    asio::co_spawn(*ioc_, accept_loop(), asio::detached);
    running_ = true;
    thread_ = std::thread([this] { ioc_->run(); });
  }

  // Closes the listener and every connection: the target is down.
  void stop() {
    if (!running_) return;
    running_ = false;
    asio::post(*ioc_, [this] {
      boost::system::error_code ignored;
      acceptor_->close(ignored);
      for (auto* socket : sockets_) socket->close(ignored);
      ioc_->stop();
    });
    thread_.join();
    acceptor_.reset();
    ioc_.reset();
  }
  void restart() { start(port_); }

 private:
  asio::awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, socket] = co_await acceptor_->async_accept(asio::as_tuple(asio::use_awaitable));
      if (ec) co_return;
      connections_++;
      asio::co_spawn(*ioc_, serve(std::move(socket)), asio::detached);
    }
  }

  asio::awaitable<void> serve(asio::ip::tcp::socket socket) {
    constexpr auto tuple = asio::as_tuple(asio::use_awaitable);
    sockets_.push_back(&socket);
    struct Unlist {
      std::list<asio::ip::tcp::socket*>& list;
      asio::ip::tcp::socket* socket;
      ~Unlist() { list.remove(socket); }
    } unlist{sockets_, &socket};
    beast::flat_buffer buffer;
    std::vector<char> chunk(64 * 1024);
    for (;;) {
      http::request_parser<http::buffer_body> parser;
      parser.body_limit(std::numeric_limits<std::uint64_t>::max());
      auto [ec, n] = co_await http::async_read_header(socket, buffer, parser, tuple);
      if (ec) co_return;
      requests_++;
      auto& request = parser.get();
      std::string target(request.target());
      auto url = boost::urls::parse_origin_form(target);
      std::string path = url ? std::string(url->path()) : target;
      auto param = [&](std::string_view key) -> std::string {
        if (!url) return {};
        for (auto p : url->params()) {
          if (p.key == key) return std::string(p.value);
        }
        return {};
      };

      if (path == "/ws" && beast::websocket::is_upgrade(request)) {
        http::request<http::empty_body> head(std::move(parser.get().base()));
        beast::websocket::stream<asio::ip::tcp::socket> ws(std::move(socket));
        auto [accept_error] = co_await ws.async_accept(head, tuple);
        if (accept_error) co_return;
        for (;;) {
          beast::flat_buffer message;
          auto [read_error, size] = co_await ws.async_read(message, tuple);
          if (read_error) co_return;
          ws.text(ws.got_text());
          std::string text = name_ + ":" + beast::buffers_to_string(message.data());
          auto [write_error, written] = co_await ws.async_write(asio::buffer(text), tuple);
          if (write_error) co_return;
        }
      }

      // The body, read in chunks as they come; /upload only counts it.
      std::string body;
      const bool counting = path == "/upload";
      while (!parser.is_done()) {
        request.body().data = chunk.data();
        request.body().size = chunk.size();
        auto [read_error, read] = co_await http::async_read_some(socket, buffer, parser, tuple);
        if (read_error == http::error::need_buffer) read_error = {};
        if (read_error) co_return;
        std::size_t got = chunk.size() - request.body().size;
        if (counting) {
          upload_reads_ += got > 0 ? 1 : 0;
          upload_bytes_ += got;
        } else {
          body.append(chunk.data(), got);
        }
      }

      if (path == "/slow") {
        asio::steady_timer timer(socket.get_executor(), std::chrono::milliseconds(std::stoi(param("ms"))));
        co_await timer.async_wait(tuple);
      }
      if (path == "/hang") {
        co_await asio::steady_timer(socket.get_executor(), std::chrono::hours(1)).async_wait(tuple);
      }

      if (path == "/download") {
        const std::size_t total = std::stoull(param("bytes"));
        http::response<http::buffer_body> response{http::status::ok, 11};
        response.set(http::field::content_type, "application/octet-stream");
        if (param("chunked") == "1") {
          response.chunked(true);
        } else {
          response.content_length(total);
        }
        response.keep_alive(request.keep_alive());
        http::response_serializer<http::buffer_body> serializer{response};
        auto [header_error, h] = co_await http::async_write_header(socket, serializer, tuple);
        if (header_error) co_return;
        std::fill(chunk.begin(), chunk.end(), 'x');
        std::size_t sent = 0;
        while (sent < total) {
          std::size_t size = std::min(chunk.size(), total - sent);
          response.body().data = chunk.data();
          response.body().size = size;
          response.body().more = true;
          auto [write_error, w] = co_await http::async_write(socket, serializer, tuple);
          if (write_error && write_error != http::error::need_buffer) co_return;
          sent += size;
        }
        response.body().data = nullptr;
        response.body().size = 0;
        response.body().more = false;
        auto [end_error, e] = co_await http::async_write(socket, serializer, tuple);
        if (end_error) co_return;
        if (!request.keep_alive()) co_return;
        continue;
      }

      http::response<http::string_body> response{http::status::ok, 11};
      if (path.starts_with("/status/")) response.result(std::stoi(path.substr(8)));
      JsonObject headers;
      for (const auto& field : request)
        headers[std::string(field.name_string())] = std::string(field.value());
      JsonObject echo{{"server", name_},
                      {"method", std::string(request.method_string())},
                      {"target", target},
                      {"headers", headers},
                      {"body", body},
                      {"upload_bytes", upload_bytes_.load()},
                      {"upload_reads", upload_reads_.load()}};
      response.set(http::field::content_type, "application/json");
      response.body() = boost::json::serialize(echo);
      response.keep_alive(request.keep_alive());
      response.prepare_payload();
      auto [write_error, w] = co_await http::async_write(socket, response, tuple);
      if (write_error || !request.keep_alive()) co_return;
    }
  }

  std::string name_;
  std::uint16_t port_ = 0;
  bool running_ = false;
  std::unique_ptr<asio::io_context> ioc_;
  std::unique_ptr<asio::ip::tcp::acceptor> acceptor_;
  std::list<asio::ip::tcp::socket*> sockets_;
  std::thread thread_;
  std::atomic<int> connections_{0};
  std::atomic<int> requests_{0};
  std::atomic<std::size_t> upload_reads_{0};
  std::atomic<std::size_t> upload_bytes_{0};
};

// A node with services (set up by `setup`) and a gateway in front of upstreams.
class GatewayNode {
 public:
  explicit GatewayNode(
      gateway::GatewayOptions options, std::function<void(App&)> setup = [](App&) {},
      std::optional<auth::AuthenticationOptions> authentication = std::nullopt) {
    setup(app_);
    server_ = std::make_unique<transport::Server>(app_, test_server_options());
    gateway_ = std::make_unique<gateway::Gateway>(app_, *server_, std::move(options), authentication);
    port_ = server_->start();
    gateway_->start();
  }
  ~GatewayNode() {
    gateway_->stop();
    server_->stop();
    server_->wait();
  }
  std::uint16_t port() const { return port_; }
  gateway::Gateway& gateway() { return *gateway_; }

 private:
  App app_;
  std::unique_ptr<transport::Server> server_;
  std::unique_ptr<gateway::Gateway> gateway_;
  std::uint16_t port_ = 0;
};

inline gateway::RouteOptions route(std::string match, std::vector<std::string> targets) {
  gateway::RouteOptions options;
  options.match = std::move(match);
  options.targets = std::move(targets);
  return options;
}

inline std::string str(const Json& value) { return std::string(value.as_string()); }

// Polls `condition` until it holds or `within` passes.
inline bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds within = 10s) {
  auto deadline = std::chrono::steady_clock::now() + within;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return condition();
}

}  // namespace plume::testing
