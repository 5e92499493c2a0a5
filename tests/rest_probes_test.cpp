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

}  // namespace
}  // namespace plume
