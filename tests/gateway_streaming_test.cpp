// Bodies stream through the gateway: a 100 MB upload and download with flat memory, chunked
// encoding both ways, pipelined requests answered in order, and WebSocket tunnels.
#include "gateway_support.hpp"

#include <gtest/gtest.h>

#include <fstream>

namespace plume::testing {
namespace {

constexpr std::size_t kLarge = 100 * 1024 * 1024;

// Resident memory of this process in kB (/proc/self/status VmRSS).
long resident_kb() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.starts_with("VmRSS:")) return std::stol(line.substr(6));
  }
  return -1;
}

asio::ip::tcp::socket connect_to(asio::io_context& ioc, std::uint16_t port) {
  asio::ip::tcp::socket socket(ioc);
  socket.connect({asio::ip::make_address("127.0.0.1"), port});
  return socket;
}

TEST(GatewayStreaming, A100MegabyteUploadStreamsThroughChunkByChunk) {
  Upstream service("a");
  GatewayNode node({.routes = {route("/", {service.url()})}});
  const long before = resident_kb();
  asio::io_context ioc;
  auto socket = connect_to(ioc, node.port());
  std::string head =
      "POST /upload HTTP/1.1\r\nHost: h\r\nContent-Length: " + std::to_string(kLarge) + "\r\n\r\n";
  asio::write(socket, asio::buffer(head));
  std::string block(256 * 1024, 'u');
  for (std::size_t sent = 0; sent < kLarge; sent += block.size()) asio::write(socket, asio::buffer(block));
  beast::flat_buffer buffer;
  http::response<http::string_body> reply;
  http::read(socket, buffer, reply);
  ASSERT_EQ(reply.result_int(), 200u) << reply.body();
  auto echo = boost::json::parse(reply.body()).as_object();
  EXPECT_EQ(echo.at("upload_bytes").as_int64(), static_cast<std::int64_t>(kLarge));
  // The upstream got the body in many pieces, not as one buffered blob.
  EXPECT_GT(echo.at("upload_reads").as_int64(), 100);
  // Nobody held 100 MB: not the client, the gateway or the upstream, all in this process.
  EXPECT_LT(resident_kb() - before, 50 * 1024);
}

TEST(GatewayStreaming, A100MegabyteDownloadStreamsThroughWithFlatMemory) {
  Upstream service("a");
  GatewayNode node({.routes = {route("/", {service.url()})}});
  for (const char* chunked : {"0", "1"}) {
    const long before = resident_kb();
    asio::io_context ioc;
    auto socket = connect_to(ioc, node.port());
    std::string head = "GET /download?bytes=" + std::to_string(kLarge) + "&chunked=" + chunked +
                       " HTTP/1.1\r\nHost: h\r\n\r\n";
    asio::write(socket, asio::buffer(head));
    beast::flat_buffer buffer;
    http::response_parser<http::buffer_body> parser;
    parser.body_limit(std::numeric_limits<std::uint64_t>::max());
    http::read_header(socket, buffer, parser);
    ASSERT_EQ(parser.get().result_int(), 200u);
    EXPECT_EQ(parser.get().chunked(), std::string_view(chunked) == "1");
    std::vector<char> chunk(64 * 1024);
    std::size_t received = 0;
    while (!parser.is_done()) {
      parser.get().body().data = chunk.data();
      parser.get().body().size = chunk.size();
      boost::system::error_code ec;
      http::read_some(socket, buffer, parser, ec);
      if (ec == http::error::need_buffer) ec = {};
      ASSERT_FALSE(ec) << ec.message();
      received += chunk.size() - parser.get().body().size;
    }
    EXPECT_EQ(received, kLarge);
    EXPECT_LT(resident_kb() - before, 50 * 1024) << "chunked=" << chunked;
  }
}

TEST(GatewayStreaming, AChunkedUploadArrivesWhole) {
  Upstream service("a");
  GatewayNode node({.routes = {route("/", {service.url()})}});
  HttpClient client(node.port());
  client.send_raw("POST /echo HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n");
  client.send_raw("5\r\nhello\r\n");
  client.send_raw("6\r\n world\r\n0\r\n\r\n");
  auto reply = client.read_reply();
  ASSERT_EQ(reply.status, 200u) << reply.body;
  EXPECT_EQ(reply.json().at("body"), "hello world");
  EXPECT_EQ(reply.json().at("headers").at("Transfer-Encoding"), "chunked");
}

TEST(GatewayStreaming, PipelinedRequestsAreAnsweredInOrder) {
  Upstream service("a");
  GatewayNode node({.routes = {route("/", {service.url()})}});
  HttpClient client(node.port());
  std::string batch;
  for (int i = 0; i < 5; ++i) batch += "GET /p" + std::to_string(i) + " HTTP/1.1\r\nHost: h\r\n\r\n";
  batch += "POST /p5 HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc";
  batch += "GET /p6 HTTP/1.1\r\nHost: h\r\n\r\n";
  client.send_raw(batch);
  for (int i = 0; i < 7; ++i) {
    auto reply = client.read_reply();
    ASSERT_EQ(reply.status, 200u);
    EXPECT_EQ(str(reply.json().at("target")), "/p" + std::to_string(i));
    if (i == 5) EXPECT_EQ(reply.json().at("body"), "abc");
  }
}

TEST(GatewayStreaming, WebSocketsAreTunnelledWhenWsIsOn) {
  Upstream service("up");
  auto options = route("/", {service.url()});
  options.ws = true;
  GatewayNode node({.routes = {options}});
  asio::io_context ioc;
  beast::websocket::stream<asio::ip::tcp::socket> ws(connect_to(ioc, node.port()));
  ws.handshake("127.0.0.1", "/ws");
  for (int i = 0; i < 3; ++i) {
    ws.write(asio::buffer("message " + std::to_string(i)));
    beast::flat_buffer buffer;
    ws.read(buffer);
    EXPECT_EQ(beast::buffers_to_string(buffer.data()), "up:message " + std::to_string(i));
  }
  ws.close(beast::websocket::close_code::normal);
}

TEST(GatewayStreaming, WebSocketUpgradesAreRefusedWhenWsIsOff) {
  Upstream service("up");
  GatewayNode node({.routes = {route("/", {service.url()})}});
  asio::io_context ioc;
  beast::websocket::stream<asio::ip::tcp::socket> ws(connect_to(ioc, node.port()));
  beast::websocket::response_type response;
  boost::system::error_code ec;
  ws.handshake(response, "127.0.0.1", "/ws", ec);
  EXPECT_TRUE(ec);
  EXPECT_EQ(response.result_int(), 400u);
}

}  // namespace
}  // namespace plume::testing
