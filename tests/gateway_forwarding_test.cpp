// What the gateway tells an upstream about the client, and what it keeps from it: X-Real-IP is
// the address the gateway determined, a client's Forwarded header is dropped unless the route
// keeps it, only IP addresses count in a trusted proxy's X-Forwarded-For, and an API key sent
// in the query is stripped with stripAuthorization as the header is.
#include "gateway_support.hpp"

#include <gtest/gtest.h>

namespace plume::testing {
namespace {

JsonObject upstream_headers(HttpClient& client, std::string target, Headers headers) {
  auto reply = client.get(std::move(target), headers);
  EXPECT_EQ(reply.status, 200u) << reply.body;
  return reply.json().at("headers").as_object();
}

TEST(GatewayForwarding, XRealIpIsTheClientAddressNotTheClientsClaim) {
  Upstream service("a");
  GatewayNode node({.routes = {route("/", {service.url()})}});
  HttpClient client(node.port());
  auto headers = upstream_headers(client, "/x", {{"X-Real-IP", "6.6.6.6"}});
  EXPECT_EQ(headers.at("X-Real-IP"), "127.0.0.1");
}

TEST(GatewayForwarding, XRealIpIsNotPassedThroughWithXfwdOff) {
  Upstream service("a");
  auto options = route("/", {service.url()});
  options.xfwd = false;
  GatewayNode node({.routes = {options}});
  HttpClient client(node.port());
  auto headers = upstream_headers(client, "/x", {{"X-Real-IP", "6.6.6.6"}});
  EXPECT_FALSE(headers.contains("X-Real-IP"));
}

TEST(GatewayForwarding, TheClientsForwardedHeaderIsDroppedUnlessTheRouteKeepsIt) {
  Upstream service("a");
  auto kept = route("/kept", {service.url()});
  kept.forwarded = gateway::ForwardedHeader::Keep;
  GatewayNode node({.routes = {kept, route("/", {service.url()})}});
  HttpClient client(node.port());
  EXPECT_FALSE(
      upstream_headers(client, "/x", {{"Forwarded", "for=6.6.6.6;proto=https"}}).contains("Forwarded"));
  EXPECT_EQ(upstream_headers(client, "/kept/x", {{"Forwarded", "for=6.6.6.6"}}).at("Forwarded"),
            "for=6.6.6.6");
}

TEST(GatewayForwarding, OnlyAddressesInATrustedProxysXForwardedForCount) {
  Upstream service("a");
  gateway::GatewayOptions options{.routes = {route("/", {service.url()})}};
  options.trusted_proxies = {"127.0.0.1", "10.0.0.0/8"};
  GatewayNode node(options);
  HttpClient client(node.port());
  auto real_ip = [&](std::string forwarded_for) {
    auto headers = upstream_headers(client, "/x", {{"X-Forwarded-For", forwarded_for}});
    return std::string(headers.at("X-Real-IP").as_string());
  };
  EXPECT_EQ(real_ip("203.0.113.9"), "203.0.113.9");
  EXPECT_EQ(real_ip("203.0.113.9, 10.1.2.3"), "203.0.113.9");
  EXPECT_EQ(real_ip(" 2001:db8::1 ,10.1.2.3"), "2001:db8::1");
  // A token that is no address stops the walk: the last address found is the client.
  EXPECT_EQ(real_ip("203.0.113.9, <script>"), "127.0.0.1");
  EXPECT_EQ(real_ip("203.0.113.9, evil.example.com, 10.1.2.3"), "10.1.2.3");
  EXPECT_EQ(real_ip("not-an-ip, 198.51.100.7"), "198.51.100.7");
  EXPECT_EQ(real_ip("999.1.1.1"), "127.0.0.1");
}

TEST(GatewayForwarding, AnApiKeyInTheQueryIsStrippedWithStripAuthorization) {
  Upstream service("a");
  auto stripped = route("/stripped", {service.url()});
  stripped.auth = gateway::AuthMode::ApiKey;
  stripped.strip_authorization = true;
  auto kept = route("/kept", {service.url()});
  kept.auth = gateway::AuthMode::ApiKey;
  gateway::GatewayOptions options{.routes = {stripped, kept}};
  options.apikeys = {{"app", gateway::hash_api_key("s3cret-key")}};
  GatewayNode node(options);
  HttpClient client(node.port());
  auto target_of = [&](std::string target) {
    auto reply = client.get(std::move(target));
    EXPECT_EQ(reply.status, 200u) << reply.body;
    return std::string(reply.json().at("target").as_string());
  };
  EXPECT_EQ(target_of("/stripped/x?a=1&apikey=s3cret-key&b=%20"), "/stripped/x?a=1&b=%20");
  EXPECT_EQ(target_of("/stripped/x?apikey=s3cret-key"), "/stripped/x");
  EXPECT_EQ(target_of("/kept/x?apikey=s3cret-key"), "/kept/x?apikey=s3cret-key");
  auto headers = upstream_headers(client, "/stripped/x", {{"X-API-Key", "s3cret-key"}});
  EXPECT_FALSE(headers.contains("X-API-Key"));
}

}  // namespace
}  // namespace plume::testing
