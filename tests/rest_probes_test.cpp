// The node's probes over real sockets: /healthz, /readyz with readiness checks, /metrics with
// the HTTP request counters, latency histogram and gauges.
#include "test_server.hpp"

#include <plume/store/store.hpp>

#include <gtest/gtest.h>
#include <boost/json/serialize.hpp>

#include <atomic>

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

}  // namespace
}  // namespace plume
