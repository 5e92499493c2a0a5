// Test clients for the Socket.io endpoint: Engine.IO polling over the blocking HTTP client, and
// a WebSocket client on Beast that collects frames in the background, with timeouts everywhere.
#pragma once

#include "test_server.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <boost/json/parse.hpp>

#include <chrono>
#include <deque>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace plume::testing {

inline constexpr char kSeparator = '\x1e';

inline std::vector<std::string> split_packets(const std::string& body) {
  std::vector<std::string> packets;
  std::size_t start = 0;
  for (;;) {
    auto end = body.find(kSeparator, start);
    packets.push_back(body.substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return packets;
}

// The JSON of an open packet "0{...}".
inline Json open_payload(const std::string& packet) {
  if (packet.empty() || packet[0] != '0') throw std::runtime_error("not an open packet: " + packet);
  return boost::json::parse(packet.substr(1));
}

// A polling client: handshake, then POST/GET with the sid.
class PollingClient {
 public:
  explicit PollingClient(std::uint16_t port) : port_(port), http_(port, std::chrono::seconds(10)) {}

  HttpReply handshake() {
    auto reply = http_.get("/socket.io/?EIO=4&transport=polling&t=abc");
    if (reply.status == 200) sid_ = std::string(open_payload(reply.body).at("sid").as_string());
    return reply;
  }
  std::string target() const { return "/socket.io/?EIO=4&transport=polling&sid=" + sid_; }
  HttpReply post(std::string body) {
    return http_.post(target(), std::move(body), {{"Content-Type", "text/plain;charset=UTF-8"}});
  }
  HttpReply get() { return http_.get(target()); }
  // GET until one of the returned packets satisfies `want`; returns every packet seen.
  std::vector<std::string> get_until(const std::function<bool(const std::string&)>& want, int polls = 5) {
    std::vector<std::string> seen;
    for (int i = 0; i < polls; ++i) {
      auto reply = get();
      if (reply.status != 200) throw std::runtime_error("poll failed: " + reply.body);
      bool found = false;
      for (auto& packet : split_packets(reply.body)) {
        if (want(packet)) found = true;
        seen.push_back(std::move(packet));
      }
      if (found) return seen;
    }
    throw std::runtime_error("packet not received");
  }
  // Handshake and Socket.IO CONNECT; returns the Socket.IO sid.
  std::string connect() {
    handshake();
    post("40");
    auto packets = get_until([](const std::string& p) { return p.rfind("40", 0) == 0; });
    return std::string(boost::json::parse(packets.back().substr(2)).at("sid").as_string());
  }

  const std::string& sid() const { return sid_; }
  HttpClient& http() { return http_; }

 private:
  std::uint16_t port_;
  HttpClient http_;
  std::string sid_;
};

class WsClient {
 public:
  // Opens ws://127.0.0.1:<port><target>; throws if the handshake fails.
  WsClient(std::uint16_t port, const std::string& target, Headers headers = {}) : ws_(ioc_) {
    namespace beast = boost::beast;
    auto& layer = beast::get_lowest_layer(ws_);
    layer.expires_after(std::chrono::seconds(5));
    beast::error_code ec;
    layer.async_connect({boost::asio::ip::make_address("127.0.0.1"), port},
                        [&](beast::error_code e) { ec = e; });
    drive();
    if (ec) throw std::runtime_error("connect failed: " + ec.message());
    ws_.set_option(beast::websocket::stream_base::decorator(
        [headers = std::vector<std::pair<std::string, std::string>>(headers)](
            beast::websocket::request_type& request) {
          for (const auto& [name, value] : headers) request.set(name, value);
        }));
    beast::websocket::response_type response;
    ws_.async_handshake(response, "127.0.0.1", target, [&](beast::error_code e) { ec = e; });
    drive();
    if (ec) {
      status_ = response.result_int();
      body_ = response.body();
      throw std::runtime_error("websocket handshake failed: " + ec.message());
    }
    layer.expires_never();
    ioc_.restart();
    read_next();
  }

  void send(const std::string& text) {
    ioc_.restart();
    boost::beast::error_code ec;
    ws_.text(true);
    bool done = false;
    ws_.async_write(boost::asio::buffer(text), [&](boost::beast::error_code e, std::size_t) {
      ec = e;
      done = true;
    });
    while (!done) {
      if (ioc_.run_one_for(std::chrono::seconds(5)) == 0) throw std::runtime_error("write timed out");
    }
    if (ec) throw std::runtime_error("write failed: " + ec.message());
  }

  // The next frame within `within`, or nullopt (timeout or closed).
  std::optional<std::string> read(std::chrono::milliseconds within = std::chrono::seconds(5)) {
    auto deadline = std::chrono::steady_clock::now() + within;
    while (frames_.empty() && !closed_) {
      auto left = deadline - std::chrono::steady_clock::now();
      if (left <= std::chrono::milliseconds(0)) return std::nullopt;
      ioc_.run_one_for(left);
    }
    if (frames_.empty()) return std::nullopt;
    std::string frame = std::move(frames_.front());
    frames_.pop_front();
    return frame;
  }
  // Reads until a frame satisfies `want` (other frames are skipped), or throws.
  std::string read_until(const std::function<bool(const std::string&)>& want,
                         std::chrono::milliseconds within = std::chrono::seconds(5)) {
    auto deadline = std::chrono::steady_clock::now() + within;
    for (;;) {
      auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      auto frame = read(std::max(left, std::chrono::milliseconds(1)));
      if (!frame) throw std::runtime_error("frame not received");
      if (want(*frame)) return *frame;
    }
  }
  // Waits up to `within` for the server to close the connection.
  bool wait_closed(std::chrono::milliseconds within) {
    auto deadline = std::chrono::steady_clock::now() + within;
    while (!closed_) {
      auto left = deadline - std::chrono::steady_clock::now();
      if (left <= std::chrono::milliseconds(0)) return false;
      ioc_.run_one_for(left);
    }
    return true;
  }
  bool closed() const { return closed_; }
  const boost::beast::error_code& close_error() const { return error_; }

 private:
  void read_next() {
    ws_.async_read(buffer_, [this](boost::beast::error_code ec, std::size_t) {
      if (ec) {
        closed_ = true;
        error_ = ec;
        return;
      }
      frames_.push_back(boost::beast::buffers_to_string(buffer_.data()));
      buffer_.consume(buffer_.size());
      read_next();
    });
  }
  void drive() {
    ioc_.restart();
    ioc_.run();
  }

  boost::asio::io_context ioc_;
  boost::beast::websocket::stream<boost::beast::tcp_stream> ws_;
  boost::beast::flat_buffer buffer_;
  std::deque<std::string> frames_;
  bool closed_ = false;
  boost::beast::error_code error_;
  unsigned status_ = 0;
  std::string body_;
};

}  // namespace plume::testing
