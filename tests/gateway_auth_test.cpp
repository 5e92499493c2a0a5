// Per-route authentication (JWT, API keys) and rate limits, in process and in a real Redis
// shared by two gateways.
#include "gateway_support.hpp"

#include "testing/redis_server.hpp"

#include <plume/auth/jwt.hpp>

#include <gtest/gtest.h>

namespace plume::testing {
namespace {

auth::AuthenticationOptions authentication() {
  auth::AuthenticationOptions options;
  options.secret = "gateway-test-secret";
  options.jwt.secret = options.secret;
  return options;
}

TEST(GatewayAuth, JwtRoutesWantAValidTokenAndPassTheConsumerUpstream) {
  Upstream service("a");
  auto options = route("/", {service.url()});
  options.auth = gateway::AuthMode::Jwt;
  GatewayNode node(
      {.routes = {options}}, [](App&) {}, authentication());
  HttpClient client(node.port());
  auto missing = client.get("/x");
  EXPECT_EQ(missing.status, 401u);
  EXPECT_EQ(missing.json().at("name"), "NotAuthenticated");
  EXPECT_EQ(service.requests(), 0);

  auto forged = auth::create_access_token({.secret = "another-secret"}, {}, "7");
  EXPECT_EQ(client.get("/x", {{"Authorization", "Bearer " + forged}}).status, 401u);

  auto token = auth::create_access_token(authentication().jwt, {}, "42");
  auto reply = client.get("/x", {{"Authorization", "Bearer " + token}, {"X-Consumer-ID", "spoofed"}});
  ASSERT_EQ(reply.status, 200u) << reply.body;
  auto headers = reply.json().at("headers").as_object();
  EXPECT_EQ(headers.at("X-Consumer-ID"), "42");
  EXPECT_TRUE(headers.contains("Authorization"));

  auto expired = auth::create_access_token(authentication().jwt, {}, "42", auth::unix_now() - 200'000);
  auto late = client.get("/x", {{"Authorization", "Bearer " + expired}});
  EXPECT_EQ(late.status, 401u);
  EXPECT_EQ(late.json().at("message"), "jwt expired");
}

TEST(GatewayAuth, StripAuthorizationKeepsTheTokenFromTheUpstream) {
  Upstream service("a");
  auto options = route("/", {service.url()});
  options.auth = gateway::AuthMode::Jwt;
  options.strip_authorization = true;
  GatewayNode node(
      {.routes = {options}}, [](App&) {}, authentication());
  HttpClient client(node.port());
  auto token = auth::create_access_token(authentication().jwt, {}, "42");
  auto headers = client.get("/x", {{"Authorization", "Bearer " + token}}).json().at("headers").as_object();
  EXPECT_FALSE(headers.contains("Authorization"));
  EXPECT_EQ(headers.at("X-Consumer-ID"), "42");
}

TEST(GatewayAuth, ApiKeysAreCheckedAgainstTheirHashesFromAHeaderOrTheQuery) {
  Upstream service("a");
  auto options = route("/", {service.url()});
  options.auth = gateway::AuthMode::ApiKey;
  gateway::GatewayOptions gateway_options{.routes = {options}};
  gateway_options.apikeys = {{"mobile-app", gateway::hash_api_key("k3y-0f-the-m0bile-app")}};
  GatewayNode node(gateway_options);
  HttpClient client(node.port());
  EXPECT_EQ(client.get("/x").status, 401u);
  EXPECT_EQ(client.get("/x", {{"X-API-Key", "wrong"}}).status, 401u);
  auto by_header = client.get("/x", {{"X-API-Key", "k3y-0f-the-m0bile-app"}});
  ASSERT_EQ(by_header.status, 200u) << by_header.body;
  EXPECT_EQ(by_header.json().at("headers").at("X-Consumer-Username"), "mobile-app");
  EXPECT_EQ(client.get("/x?apikey=k3y-0f-the-m0bile-app").status, 200u);
}

TEST(GatewayRateLimit, TheLocalStoreRejectsPastTheLimitWithRetryAfter) {
  Upstream service("a");
  auto options = route("/", {service.url()});
  options.rate_limit = gateway::RateLimitOptions{.minute = 3, .by = gateway::LimitBy::Ip};
  GatewayNode node({.routes = {options}});
  HttpClient client(node.port());
  for (int i = 0; i < 3; ++i) {
    auto reply = client.get("/x");
    ASSERT_EQ(reply.status, 200u);
    EXPECT_EQ(reply.header("RateLimit-Limit"), "3");
    EXPECT_EQ(reply.header("RateLimit-Remaining"), std::to_string(2 - i));
  }
  auto rejected = client.get("/x");
  EXPECT_EQ(rejected.status, 429u);
  EXPECT_EQ(rejected.json().at("name"), "TooManyRequests");
  EXPECT_EQ(rejected.header("RateLimit-Remaining"), "0");
  // One request frees up every 20 s.
  EXPECT_EQ(rejected.header("Retry-After"), "20");
  EXPECT_EQ(service.requests(), 3);
}

TEST(GatewayRateLimit, LimitsByHeaderCountEachKeyOnItsOwn) {
  Upstream service("a");
  auto options = route("/", {service.url()});
  options.rate_limit = gateway::RateLimitOptions{
      .second = 1, .hour = 100, .by = gateway::LimitBy::Header, .header = "X-Tenant"};
  GatewayNode node({.routes = {options}});
  HttpClient client(node.port());
  EXPECT_EQ(client.get("/x", {{"X-Tenant", "a"}}).status, 200u);
  EXPECT_EQ(client.get("/x", {{"X-Tenant", "b"}}).status, 200u);
  // One per second: the very next one of tenant a waits (unless a second passed on a loaded
  // machine, so only a rejection's shape is checked when it happens).
  auto again = client.get("/x", {{"X-Tenant", "a"}});
  if (again.status == 429u) EXPECT_EQ(again.header("Retry-After"), "1");
}

TEST(GatewayRateLimit, TwoGatewaysShareOneRedisBudget) {
  RedisServer redis;
  Upstream service("a");
  auto options = route("/", {service.url()});
  options.rate_limit = gateway::RateLimitOptions{
      .minute = 4, .by = gateway::LimitBy::Ip, .store = gateway::LimitStore::Redis, .redis = redis.url()};
  GatewayNode first({.routes = {options}});
  GatewayNode second({.routes = {options}});
  HttpClient one(first.port());
  HttpClient two(second.port());
  int allowed = 0;
  for (int i = 0; i < 4; ++i) {
    allowed += one.get("/x").status == 200u;
    allowed += two.get("/x").status == 200u;
  }
  EXPECT_EQ(allowed, 4);
  auto rejected = two.get("/x");
  EXPECT_EQ(rejected.status, 429u);
  EXPECT_EQ(rejected.header("RateLimit-Limit"), "4");
  EXPECT_EQ(rejected.header("Retry-After"), "15");
}

TEST(GatewayRateLimit, FaultTolerantLimitsLetRequestsThroughWhenRedisIsDown) {
  auto redis = std::make_unique<RedisServer>();
  std::string url = redis->url();
  redis.reset();
  Upstream service("a");
  auto tolerant = route("/open", {service.url()});
  tolerant.rate_limit =
      gateway::RateLimitOptions{.minute = 1, .store = gateway::LimitStore::Redis, .redis = url};
  auto strict = route("/strict", {service.url()});
  strict.rate_limit = gateway::RateLimitOptions{
      .minute = 1, .store = gateway::LimitStore::Redis, .redis = url, .fault_tolerant = false};
  GatewayNode node({.routes = {tolerant, strict}});
  HttpClient client(node.port(), 10s);
  EXPECT_EQ(client.get("/open").status, 200u);
  EXPECT_EQ(client.get("/open").status, 200u);
  auto refused = client.get("/strict");
  EXPECT_EQ(refused.status, 503u);
  EXPECT_EQ(refused.json().at("name"), "Unavailable");
}

}  // namespace
}  // namespace plume::testing
