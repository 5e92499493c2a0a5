// The node's probes over real sockets: /healthz, /readyz with readiness checks, /metrics with
// the HTTP request counters, latency histogram and gauges.
#include "test_server.hpp"

#include <plume/store/store.hpp>

#include <gtest/gtest.h>
#include <boost/json/serialize.hpp>

#include <atomic>
#include <cstddef>
#include <sstream>

namespace plume {
namespace {

using testing::HttpClient;
using testing::TestServer;

void use_messages(App& app) { app.use("messages", store::make_memory_service({})); }

TEST(RestProbes, HealthzAnswersOk) {
  TestServer server(use_messages);
  HttpClient client(server.port());
  auto reply = client.get("/healthz");
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.body, R"({"status":"ok"})");
}

TEST(RestProbes, ReadyzFollowsTheReadinessChecks) {
  std::atomic<bool> database_up{true};
  TestServer server(use_messages);
  server.server().add_readiness_check(
      "database", [&]() -> std::string { return database_up ? "" : "connection refused"; });
  HttpClient client(server.port());
  auto ready = client.get("/readyz");
  EXPECT_EQ(ready.status, 200);
  EXPECT_EQ(ready.body, R"({"status":"ready"})");

  database_up = false;
  auto not_ready = client.get("/readyz");
  EXPECT_EQ(not_ready.status, 503);
  EXPECT_EQ(boost::json::serialize(not_ready.json()),
            R"({"status":"not ready","checks":{"database":"connection refused"}})");
}

TEST(RestProbes, MetricsCountRequestsByServiceMethodAndStatus) {
  TestServer server(use_messages);
  HttpClient client(server.port());
  client.get("/messages");
  client.get("/messages");
  client.get("/messages/12345");
  auto reply = client.get("/metrics");
  ASSERT_EQ(reply.status, 200);
  EXPECT_EQ(reply.header("Content-Type").rfind("text/plain", 0), 0u);
  const std::string& text = reply.body;
  EXPECT_NE(text.find(R"(plume_http_requests_total{service="messages",method="find",status="200"} 2)"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find(R"(plume_http_requests_total{service="messages",method="get",status="404"} 1)"),
            std::string::npos);
  EXPECT_NE(text.find("# TYPE plume_http_request_duration_seconds histogram"), std::string::npos);
  EXPECT_NE(text.find(R"(plume_http_request_duration_seconds_count{service="messages",method="find"} 2)"),
            std::string::npos);
  EXPECT_NE(
      text.find(
          R"(plume_http_request_duration_seconds_bucket{service="messages",method="find",le="+Inf"} 2)"),
      std::string::npos);
  // The scrape itself is in flight on the one open connection.
  EXPECT_NE(text.find("plume_http_requests_in_flight 1\n"), std::string::npos);
  EXPECT_NE(text.find("plume_http_connections 1\n"), std::string::npos);
}

std::size_t count_series(const std::string& text, std::string_view family) {
  std::size_t count = 0;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.starts_with(std::string(family) + "{")) ++count;
  }
  return count;
}

// Requests the node cannot route (unknown method tokens, X-Service-Method names no service has,
// paths no service has) must not add a series each: label values come from the node's own
// services, methods and routes, everything else is `other`.
TEST(RestProbes, MetricsSeriesStayBoundedWhateverClientsSend) {
  TestServer server(use_messages);
  constexpr int kRounds = 1000;
  for (int i = 0; i < kRounds; ++i) {
    const std::string token = "X" + std::to_string(i);
    {
      // An unknown method token; the server may close the connection after refusing it.
      HttpClient raw(server.port());
      raw.send_raw(token + " /messages HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n");
      EXPECT_GE(raw.read_reply().status, 400u);
    }
    HttpClient client(server.port());
    EXPECT_EQ(client.post("/messages", "{}", {{"X-Service-Method", "m" + token}}).status, 405u);
    EXPECT_EQ(client.get("/nowhere/" + token).status, 404u);
  }
  HttpClient client(server.port());
  const std::string text = client.get("/metrics").body;
  // A handful of (service, method, status) triples; thousands before label values were bounded.
  EXPECT_LE(count_series(text, "plume_http_requests_total"), 12u) << text.substr(0, 4000);
  EXPECT_LE(count_series(text, "plume_http_request_duration_seconds_count"), 8u);
  EXPECT_NE(text.find(R"(plume_http_requests_total{service="messages",method="other",status="405"} 2000)"),
            std::string::npos)
      << text.substr(0, 4000);
  EXPECT_NE(text.find(R"(plume_http_requests_total{service="other",method="GET",status="404"} 1000)"),
            std::string::npos);
  EXPECT_EQ(text.find("mX1"), std::string::npos);
}

// Without an admin section the node's internals answer only clients on the node itself: a
// request relayed by a proxy (it carries X-Forwarded-For) is refused, /healthz and /readyz are not.
TEST(RestProbes, MetricsAndMeshNodesRefuseRelayedRequestsByDefault) {
  TestServer server([](App& app) {
    use_messages(app);
    app.use("mesh/nodes", store::make_memory_service({}));
  });
  HttpClient client(server.port());
  EXPECT_EQ(client.get("/metrics").status, 200u);
  EXPECT_EQ(client.get("/mesh/nodes").status, 200u);
  const testing::Headers relayed = {{"X-Forwarded-For", "203.0.113.7"}};
  const auto metrics = client.get("/metrics", relayed);
  EXPECT_EQ(metrics.status, 403u) << metrics.body;
  EXPECT_EQ(metrics.json().at("name"), "Forbidden");
  EXPECT_EQ(client.get("/mesh/nodes", relayed).status, 403u);
  EXPECT_EQ(client.get("/mesh/nodes", {{"Forwarded", "for=203.0.113.7"}}).status, 403u);
  EXPECT_EQ(client.get("/healthz", relayed).status, 200u);
  EXPECT_EQ(client.get("/readyz", relayed).status, 200u);
  EXPECT_EQ(client.get("/messages", relayed).status, 200u);
}

// sha256("let-me-in")
constexpr std::string_view kTokenSha256 = "a3ee786b5707c27d42570785081ec17f5c7db9262a01366af362a1aa61a420b9";

TEST(RestProbes, AnAdminListenerServesTheInternalsWhichTheMainPortKeepsForTheToken) {
  auto options = testing::test_server_options();
  options.admin.port = 0;
  options.admin.token_sha256 = std::string(kTokenSha256);
  TestServer server(
      [](App& app) {
        use_messages(app);
        app.use("mesh/nodes", store::make_memory_service({}));
      },
      options);
  ASSERT_NE(server.server().admin_port(), 0u);
  ASSERT_NE(server.server().admin_port(), server.port());
  HttpClient admin(server.server().admin_port());
  EXPECT_EQ(admin.get("/metrics").status, 200u);
  EXPECT_EQ(admin.get("/mesh/nodes").status, 200u);
  EXPECT_EQ(admin.get("/healthz").status, 200u);
  EXPECT_EQ(admin.get("/readyz").status, 200u);
  EXPECT_EQ(admin.get("/messages").status, 404u) << "the admin listener serves no services";

  HttpClient main(server.port());
  EXPECT_EQ(main.get("/metrics").status, 403u) << "not even to loopback clients";
  EXPECT_EQ(main.get("/mesh/nodes").status, 403u);
  EXPECT_EQ(main.get("/metrics", {{"Authorization", "Bearer wrong"}}).status, 403u);
  EXPECT_EQ(main.get("/metrics", {{"Authorization", "Bearer let-me-in"}}).status, 200u);
  EXPECT_EQ(main.get("/mesh/nodes", {{"Authorization", "Bearer let-me-in"}}).status, 200u);
  EXPECT_EQ(main.get("/healthz").status, 200u);
  EXPECT_EQ(main.get("/readyz").status, 200u);
}

TEST(RestProbes, TheAdminTokenOpensTheInternalsToRelayedRequests) {
  auto options = testing::test_server_options();
  options.admin.token_sha256 = std::string(kTokenSha256);
  TestServer server(use_messages, options);
  HttpClient client(server.port());
  EXPECT_EQ(client.get("/metrics", {{"X-Forwarded-For", "203.0.113.7"}}).status, 403u);
  EXPECT_EQ(
      client.get("/metrics", {{"X-Forwarded-For", "203.0.113.7"}, {"Authorization", "Bearer let-me-in"}})
          .status,
      200u);
}

}  // namespace
}  // namespace plume
