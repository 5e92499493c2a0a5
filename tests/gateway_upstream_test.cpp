// Upstream pools: keep-alive reuse, balancing, health checks (active and passive), retries,
// and the errors the gateway answers itself (502, 503, 504, 413).
#include "gateway_support.hpp"

#include <gtest/gtest.h>

#include <map>

namespace plume::testing {
namespace {

TEST(GatewayUpstream, KeepAliveConnectionsAreReused) {
  Upstream service("a");
  GatewayNode node({.routes = {route("/", {service.url()})}});
  HttpClient client(node.port());
  for (int i = 0; i < 20; ++i) ASSERT_EQ(client.get("/x").status, 200u);
  EXPECT_EQ(service.requests(), 20);
  // One client connection lives on one I/O thread, whose pool keeps one upstream connection.
  EXPECT_EQ(service.connections(), 1);
}

TEST(GatewayUpstream, RoundRobinSpreadsRequestsOverTwoTargets) {
  Upstream a("a");
  Upstream b("b");
  GatewayNode node({.routes = {route("/", {a.url(), b.url()})}});
  HttpClient client(node.port());
  std::map<std::string, int> seen;
  for (int i = 0; i < 10; ++i) seen[std::string(client.get("/").json().at("server").as_string())]++;
  EXPECT_EQ(seen["a"], 5);
  EXPECT_EQ(seen["b"], 5);
}

TEST(GatewayUpstream, ConsistentHashingByHeaderKeepsAClientOnOneTarget) {
  Upstream a("a");
  Upstream b("b");
  auto options = route("/", {a.url(), b.url()});
  options.balance = gateway::Balance::Hash;
  options.hash_on = "header:X-User";
  GatewayNode node({.routes = {options}});
  HttpClient client(node.port());
  std::map<std::string, std::string> first;
  for (int round = 0; round < 3; ++round) {
    for (int user = 0; user < 8; ++user) {
      std::string name = "user" + std::to_string(user);
      std::string server(client.get("/", {{"X-User", name}}).json().at("server").as_string());
      if (round == 0) first[name] = server;
      EXPECT_EQ(server, first[name]);
    }
  }
}

TEST(GatewayUpstream, AStoppedTargetIsMarkedDownByActiveChecksAndComesBack) {
  Upstream a("a");
  Upstream b("b");
  auto options = route("/", {a.url(), b.url()});
  options.health_check = {
      .path = "/health", .interval = 100ms, .healthy = 2, .unhealthy = 2, .timeout = 500ms};
  options.retries = 0;
  GatewayNode node({.routes = {options}});
  HttpClient client(node.port());
  b.stop();
  // The active checks find b down; then every request goes to a, none fails.
  ASSERT_TRUE(eventually([&] {
    int before = a.requests();
    for (int i = 0; i < 4; ++i) {
      if (client.get("/").status != 200) return false;
    }
    return a.requests() - before >= 4;  // a's own health probes add to its count too
  }));
  for (int i = 0; i < 10; ++i) {
    auto reply = client.get("/");
    ASSERT_EQ(reply.status, 200u) << reply.body;
    EXPECT_EQ(reply.json().at("server"), "a");
  }
  b.restart();
  ASSERT_TRUE(eventually([&] { return client.get("/").json().at("server") == "b"; }));
}

TEST(GatewayUpstream, PassiveChecksTakeARefusingTargetOutOfRotation) {
  Upstream a("a");
  Upstream b("b");
  auto options = route("/", {a.url(), b.url()});
  options.health_check.unhealthy = 1;
  options.health_check.interval = 60s;  // cool-down; no active checks (no path)
  options.retries = 0;
  GatewayNode node({.routes = {options}});
  b.stop();
  HttpClient client(node.port());
  int failures = 0;
  for (int i = 0; i < 10; ++i) failures += client.get("/").status == 502;
  // One request found b refusing; b then sat out its cool-down.
  EXPECT_EQ(failures, 1);
}

TEST(GatewayUpstream, AFailedGetIsRetriedOnAnotherTarget) {
  Upstream a("a");
  Upstream b("b");
  auto options = route("/", {a.url(), b.url()});
  options.retries = 1;
  options.health_check.unhealthy = 100;  // keep b in rotation: every other request tries it
  GatewayNode node({.routes = {options}});
  b.stop();
  HttpClient client(node.port());
  for (int i = 0; i < 6; ++i) {
    auto reply = client.get("/");
    ASSERT_EQ(reply.status, 200u) << reply.body;
    EXPECT_EQ(reply.json().at("server"), "a");
  }
}

TEST(GatewayUpstream, ConnectionRefusedIsBadGateway) {
  Upstream gone("gone");
  std::string url = gone.url();
  gone.stop();
  GatewayNode node({.routes = {route("/", {url})}});
  HttpClient client(node.port());
  auto reply = client.get("/x");
  EXPECT_EQ(reply.status, 502u);
  EXPECT_EQ(reply.json().at("name"), "BadGateway");
  EXPECT_EQ(reply.json().at("className"), "bad-gateway");
  EXPECT_EQ(reply.json().at("code"), 502);
}

TEST(GatewayUpstream, NoHealthyTargetIsUnavailable) {
  Upstream gone("gone");
  std::string url = gone.url();
  gone.stop();
  auto options = route("/", {url});
  options.health_check.unhealthy = 1;
  GatewayNode node({.routes = {options}});
  HttpClient client(node.port());
  EXPECT_EQ(client.get("/x").status, 502u);
  auto reply = client.get("/x");
  EXPECT_EQ(reply.status, 503u);
  EXPECT_EQ(reply.json().at("name"), "Unavailable");
}

TEST(GatewayUpstream, AnUpstreamTooSlowIsGatewayTimeoutAndTheClientIsNotHeld) {
  Upstream slow("slow");
  auto options = route("/", {slow.url()});
  options.proxy_timeout = 300ms;
  GatewayNode node({.routes = {options}});
  HttpClient client(node.port(), 10s);
  auto started = std::chrono::steady_clock::now();
  auto reply = client.get("/hang");
  auto waited = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(reply.status, 504u);
  EXPECT_EQ(reply.json().at("name"), "GatewayTimeout");
  EXPECT_EQ(reply.json().at("className"), "gateway-timeout");
  EXPECT_EQ(reply.json().at("code"), 504);
  EXPECT_LT(waited, 8s);
  // Fast answers on the same connection still pass.
  EXPECT_EQ(client.get("/slow?ms=10").status, 200u);
}

TEST(GatewayUpstream, ABodyOverTheLimitIsPayloadTooLarge) {
  Upstream service("a");
  auto options = route("/", {service.url()});
  options.body_limit = 1024;
  GatewayNode node({.routes = {options}});
  {
    HttpClient client(node.port());
    auto reply = client.post("/x", std::string(4096, 'a'));
    EXPECT_EQ(reply.status, 413u);
    EXPECT_EQ(reply.json().at("name"), "PayloadTooLarge");
  }
  {
    // Chunked: the size is only known on the way.
    HttpClient client(node.port());
    std::string chunk(800, 'b');
    client.send_raw("POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n");
    client.send_raw("320\r\n" + chunk + "\r\n320\r\n" + chunk + "\r\n0\r\n\r\n");
    EXPECT_EQ(client.read_reply().status, 413u);
  }
  HttpClient client(node.port());
  EXPECT_EQ(client.post("/x", std::string(1000, 'c')).status, 200u);
}

TEST(GatewayUpstream, UpstreamErrorStatusesPassThrough) {
  Upstream service("a");
  GatewayNode node({.routes = {route("/", {service.url()})}});
  HttpClient client(node.port());
  EXPECT_EQ(client.get("/status/404").status, 404u);
  EXPECT_EQ(client.get("/status/500").status, 500u);
  EXPECT_EQ(client.get("/x").status, 200u);
}

}  // namespace
}  // namespace plume::testing
