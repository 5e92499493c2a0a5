// WebSocket upgrades name no library version: the Socket.io transport, the mesh's /_mesh and
// the gateway's WebSocket tunnel each answer the upgrade without Beast's default
// "Server: Boost.Beast/<version>".
#include "gateway_support.hpp"

#include <plume/mesh/mesh.hpp>

#include <gtest/gtest.h>

namespace plume::testing {
namespace {

std::string upgrade_request(std::string_view target) {
  return "GET " + std::string(target) +
         " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
         "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
}

HttpReply upgrade(std::uint16_t port, std::string_view target) {
  HttpClient client(port);
  client.send_raw(upgrade_request(target));
  return client.read_reply();
}

void expect_no_version_banner(const HttpReply& reply) {
  EXPECT_EQ(reply.status, 101u);
  const std::string server = reply.header("Server");
  EXPECT_EQ(server.find("Beast"), std::string::npos) << server;
  EXPECT_EQ(server.find('/'), std::string::npos) << server;
}

TEST(WebSocketBanner, SocketIoUpgradesNameNoVersion) {
  TestServer server([](App&) {});
  expect_no_version_banner(upgrade(server.port(), "/socket.io/?EIO=4&transport=websocket"));
}

// The mesh answers a WebSocket upgrade itself only with plaintext links; with TLS (the default)
// it answers the RFC 2817 upgrade to TLS, and the WebSocket upgrade comes inside TLS.
TEST(WebSocketBanner, MeshLinksNameNoVersion) {
  for (const auto mode : {mesh::MeshTlsMode::Off, mesh::MeshTlsMode::Psk}) {
    App app;
    transport::Server server(app, test_server_options());
    mesh::MeshOptions options;
    options.secret = "banner-test-secret";
    options.discovery = "static";
    options.tls.mode = mode;
    mesh::Mesh mesh(app, server, options);
    const auto port = server.start();
    if (mode == mesh::MeshTlsMode::Off) {
      expect_no_version_banner(upgrade(port, "/_mesh"));
    } else {
      HttpClient client(port);
      client.send_raw(
          "GET /_mesh HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: TLS/1.3\r\n\r\n");
      expect_no_version_banner(client.read_reply());
    }
    server.stop();
    server.wait();
  }
}

TEST(WebSocketBanner, TheGatewaysTunnelRelaysNoVersion) {
  Upstream service("a");
  auto options = route("/", {service.url()});
  options.ws = true;
  GatewayNode node({.routes = {options}});
  expect_no_version_banner(upgrade(node.port(), "/ws"));
}

}  // namespace
}  // namespace plume::testing
