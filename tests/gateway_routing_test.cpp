// Routing and rewriting as the reference architecture's proxyTable uses them, first match
// wins, host routing, and gateway routes beside the node's own services.
#include "gateway_support.hpp"

#include <plume/core/service.hpp>

#include <gtest/gtest.h>

namespace plume::testing {
namespace {

TEST(GatewayRouting, TheReferenceArchitectureExampleRewritesApiServiceToApi) {
  Upstream service("my.service");
  auto api = route("/api/service", {service.url()});
  api.change_origin = true;
  api.path_rewrite = {{"^/api/service", "/api"}};
  GatewayNode node({.routes = {api}});
  HttpClient client(node.port());
  auto reply = client.get("/api/service/1?x=2");
  ASSERT_EQ(reply.status, 200u) << reply.body;
  auto echo = reply.json().as_object();
  EXPECT_EQ(echo.at("target"), "/api/1?x=2");
  // changeOrigin: the upstream sees its own host.
  EXPECT_EQ(str(echo.at("headers").at("Host")), "127.0.0.1:" + std::to_string(service.port()));
}

TEST(GatewayRouting, WithoutChangeOriginTheClientsHostIsKeptAndForwardedHeadersAreAdded) {
  Upstream service("a");
  GatewayNode node({.routes = {route("/api", {service.url()})}});
  HttpClient client(node.port());
  auto reply = client.get("/api/x", {{"Host", "shop.example.com"}});
  ASSERT_EQ(reply.status, 200u) << reply.body;
  auto headers = reply.json().at("headers").as_object();
  EXPECT_EQ(headers.at("Host"), "shop.example.com");
  EXPECT_EQ(headers.at("X-Forwarded-For"), "127.0.0.1");
  EXPECT_EQ(headers.at("X-Forwarded-Proto"), "http");
  EXPECT_EQ(headers.at("X-Forwarded-Host"), "shop.example.com");
  // A request id is made up and sent both ways.
  ASSERT_TRUE(headers.contains("X-Request-Id"));
  EXPECT_EQ(reply.header("X-Request-Id"), headers.at("X-Request-Id").as_string());
  // The target path is passed as is.
  EXPECT_EQ(reply.json().at("target"), "/api/x");
}

TEST(GatewayRouting, AClientsRequestIdIsKept) {
  Upstream service("a");
  GatewayNode node({.routes = {route("/", {service.url()})}});
  HttpClient client(node.port());
  auto reply = client.get("/x", {{"X-Request-Id", "trace-123"}});
  EXPECT_EQ(reply.json().at("headers").at("X-Request-Id"), "trace-123");
  EXPECT_EQ(reply.header("X-Request-Id"), "trace-123");
}

TEST(GatewayRouting, TheFirstMatchingEntryWins) {
  Upstream specific("specific");
  Upstream general("general");
  GatewayNode node({.routes = {route("/api/users", {specific.url()}), route("/api", {general.url()}),
                               route("/api/users/special", {general.url()})}});
  HttpClient client(node.port());
  EXPECT_EQ(client.get("/api/users/special").json().at("server"), "specific");
  EXPECT_EQ(client.get("/api/users").json().at("server"), "specific");
  EXPECT_EQ(client.get("/api/orders").json().at("server"), "general");
  // A prefix ends at a '/': /api/usersettings is not under /api/users.
  EXPECT_EQ(client.get("/api/usersettings").json().at("server"), "general");
}

TEST(GatewayRouting, HostKeysRouteByTheHostHeader) {
  Upstream one("one");
  Upstream two("two");
  Upstream fallback("fallback");
  GatewayNode node({.routes = {route("one.example.com", {one.url()}),
                               route("two.example.com/v2", {two.url()}), route("/", {fallback.url()})}});
  HttpClient client(node.port());
  EXPECT_EQ(client.get("/x", {{"Host", "one.example.com"}}).json().at("server"), "one");
  EXPECT_EQ(client.get("/x", {{"Host", "one.example.com:8080"}}).json().at("server"), "one");
  EXPECT_EQ(client.get("/v2/x", {{"Host", "two.example.com"}}).json().at("server"), "two");
  EXPECT_EQ(client.get("/v1/x", {{"Host", "two.example.com"}}).json().at("server"), "fallback");
  EXPECT_EQ(client.get("/v2/x", {{"Host", "three.example.com"}}).json().at("server"), "fallback");
}

class Greetings : public Service {
 public:
  Task<Json> find(Params&) override { co_return Json(JsonObject{{"hello", "from the node"}}); }
};

TEST(GatewayRouting, ServicesAnswerWhatNoRouteTakes) {
  Upstream service("upstream");
  GatewayNode node({.routes = {route("/api", {service.url()})}},
                   [](App& app) { app.use("greetings", std::make_unique<Greetings>()); });
  HttpClient client(node.port());
  EXPECT_EQ(client.get("/api/greetings").json().at("server"), "upstream");
  auto local = client.get("/greetings");
  ASSERT_EQ(local.status, 200u) << local.body;
  EXPECT_EQ(local.json().at("hello"), "from the node");
  EXPECT_EQ(client.get("/healthz").status, 200u);
  EXPECT_EQ(client.get("/nothing").status, 404u);
}

TEST(GatewayRouting, HeadersOptionSetsUpstreamHeadersAndXfwdCanBeTurnedOff) {
  Upstream service("a");
  auto options = route("/", {service.url()});
  options.headers = {{"X-Env", "test"}};
  options.xfwd = false;
  GatewayNode node({.routes = {options}});
  HttpClient client(node.port());
  auto headers = client.get("/").json().at("headers").as_object();
  EXPECT_EQ(headers.at("X-Env"), "test");
  EXPECT_FALSE(headers.contains("X-Forwarded-For"));
}

TEST(GatewayRouting, CorsPreflightIsAnsweredAndRepliesCarryTheOrigin) {
  Upstream service("a");
  auto options = route("/", {service.url()});
  options.cors = gateway::CorsRouteOptions{{"https://app.example.com"}};
  GatewayNode node({.routes = {options}});
  HttpClient client(node.port());
  auto preflight =
      client.request(http::verb::options, "/x", {},
                     {{"Origin", "https://app.example.com"}, {"Access-Control-Request-Method", "POST"}});
  EXPECT_EQ(preflight.status, 204u);
  EXPECT_EQ(preflight.header("Access-Control-Allow-Origin"), "https://app.example.com");
  EXPECT_EQ(service.requests(), 0);
  auto reply = client.get("/x", {{"Origin", "https://app.example.com"}});
  EXPECT_EQ(reply.header("Access-Control-Allow-Origin"), "https://app.example.com");
  auto other = client.get("/x", {{"Origin", "https://evil.example.com"}});
  EXPECT_FALSE(other.has_header("Access-Control-Allow-Origin"));
}

}  // namespace
}  // namespace plume::testing
