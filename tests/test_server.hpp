// In-process test server and a small blocking HTTP client over Beast: start a Server on port 0
// with an App the test fills, then talk to it over real sockets, request by request on one
// keep-alive connection or byte by byte in raw mode.
#pragma once

#include <plume/core/app.hpp>
#include <plume/core/json.hpp>
#include <plume/transport/server.hpp>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json/parse.hpp>

#include <chrono>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>

namespace plume::testing {

namespace http = boost::beast::http;
using namespace std::chrono_literals;

inline transport::ServerOptions test_server_options() {
  transport::ServerOptions options;
  options.host = "127.0.0.1";
  options.port = 0;
  options.threads = 2;
  return options;
}

// An App with the test's services behind a started Server; stops it on destruction.
class TestServer {
 public:
  explicit TestServer(const std::function<void(App&)>& setup,
                      transport::ServerOptions options = test_server_options()) {
    setup(app_);
    server_ = std::make_unique<transport::Server>(app_, std::move(options));
    port_ = server_->start();
  }
  ~TestServer() {
    server_->stop();
    server_->wait();
  }

  App& app() { return app_; }
  transport::Server& server() { return *server_; }
  std::uint16_t port() const { return port_; }

 private:
  App app_;
  std::unique_ptr<transport::Server> server_;
  std::uint16_t port_ = 0;
};

struct HttpReply {
  unsigned status = 0;
  http::fields headers;
  std::string body;
  bool keep_alive = true;

  Json json() const { return boost::json::parse(body); }
  std::string header(std::string_view name) const { return std::string(headers[name]); }
  bool has_header(std::string_view name) const { return headers.find(name) != headers.end(); }
};

using Headers = std::initializer_list<std::pair<std::string, std::string>>;

// One client connection. Every operation gives up after `timeout` and throws.
class HttpClient {
 public:
  explicit HttpClient(std::uint16_t port, std::chrono::milliseconds timeout = 5s)
      : HttpClient(port, "", timeout) {}
  // From another loopback address (127.0.0.2...), for tests of per-client limits.
  HttpClient(std::uint16_t port, const std::string& source_address, std::chrono::milliseconds timeout = 5s)
      : stream_(ioc_), timeout_(timeout) {
    boost::asio::ip::tcp::endpoint endpoint(boost::asio::ip::make_address("127.0.0.1"), port);
    boost::beast::error_code ec;
    if (!source_address.empty()) {
      auto& socket = stream_.socket();
      socket.open(boost::asio::ip::tcp::v4());
      socket.bind({boost::asio::ip::make_address(source_address), 0});
    }
    stream_.expires_after(timeout_);
    stream_.async_connect(endpoint, [&](boost::beast::error_code e) { ec = e; });
    drive();
    if (ec) throw std::runtime_error("connect failed: " + ec.message());
  }

  HttpReply request(http::verb verb, std::string target, std::string body = {}, Headers headers = {}) {
    http::request<http::string_body> request{verb, target, 11};
    request.set(http::field::host, "127.0.0.1");
    for (const auto& [name, value] : headers) request.set(name, value);
    if (!body.empty() || verb == http::verb::post || verb == http::verb::put || verb == http::verb::patch) {
      if (request[http::field::content_type].empty())
        request.set(http::field::content_type, "application/json");
      request.body() = std::move(body);
      request.prepare_payload();
    }
    write(request);
    return read_reply(verb == http::verb::head);
  }
  HttpReply get(std::string target, Headers headers = {}) {
    return request(http::verb::get, std::move(target), {}, headers);
  }
  HttpReply post(std::string target, std::string body, Headers headers = {}) {
    return request(http::verb::post, std::move(target), std::move(body), headers);
  }

  void write(http::request<http::string_body>& request) {
    boost::beast::error_code ec;
    stream_.expires_after(timeout_);
    http::async_write(stream_, request, [&](boost::beast::error_code e, std::size_t) { ec = e; });
    drive();
    if (ec) throw std::runtime_error("write failed: " + ec.message());
  }

  // Raw mode: bytes exactly as given.
  void send_raw(std::string_view bytes) {
    boost::beast::error_code ec;
    stream_.expires_after(timeout_);
    boost::asio::async_write(stream_, boost::asio::buffer(bytes.data(), bytes.size()),
                             [&](boost::beast::error_code e, std::size_t) { ec = e; });
    drive();
    if (ec) throw std::runtime_error("raw write failed: " + ec.message());
  }

  HttpReply read_reply(bool head = false) {
    http::response_parser<http::string_body> parser;
    parser.body_limit(64 * 1024 * 1024);
    parser.skip(head);
    boost::beast::error_code ec;
    stream_.expires_after(timeout_);
    http::async_read(stream_, buffer_, parser, [&](boost::beast::error_code e, std::size_t) { ec = e; });
    drive();
    if (ec) throw std::runtime_error("read failed: " + ec.message());
    auto message = parser.release();
    HttpReply reply;
    reply.status = message.result_int();
    reply.keep_alive = message.keep_alive();
    reply.body = std::move(message.body());
    for (const auto& field : message) reply.headers.insert(field.name_string(), field.value());
    return reply;
  }

  // Waits up to `within` for the server to close the connection; returns whatever bytes came
  // first, or nullopt when the connection is still open after `within`.
  std::optional<std::string> read_until_closed(std::chrono::milliseconds within) {
    std::string received(static_cast<const char*>(buffer_.data().data()), buffer_.size());
    buffer_.consume(buffer_.size());
    auto deadline = std::chrono::steady_clock::now() + within;
    for (;;) {
      auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left <= 0ms) return std::nullopt;
      char chunk[4096];
      boost::beast::error_code ec;
      std::size_t n = 0;
      stream_.expires_after(left);
      stream_.async_read_some(boost::asio::buffer(chunk), [&](boost::beast::error_code e, std::size_t size) {
        ec = e;
        n = size;
      });
      drive();
      if (ec == boost::beast::error::timeout) return std::nullopt;
      received.append(chunk, n);
      if (ec) return received;  // eof or reset: closed by the server
    }
  }

 private:
  void drive() {
    ioc_.restart();
    ioc_.run();
  }

  boost::asio::io_context ioc_;
  boost::beast::tcp_stream stream_;
  boost::beast::flat_buffer buffer_;
  std::chrono::milliseconds timeout_;
};

}  // namespace plume::testing
