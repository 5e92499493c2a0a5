#include "transport/http_metrics.hpp"

#include <gtest/gtest.h>

#include <thread>

namespace plume::transport {
namespace {

TEST(HttpMetrics, ShardsAreMergedWhenRendered) {
  HttpMetrics metrics(2);
  std::thread a([&] {
    metrics.bind_thread(0);
    metrics.record("messages", "find", 200, 0.002);
  });
  std::thread b([&] {
    metrics.bind_thread(1);
    metrics.record("messages", "find", 200, 0.2);
    metrics.record("messages", "find", 404, 0.003);
  });
  a.join();
  b.join();
  auto text = metrics.render(3, 4);
  EXPECT_NE(text.find(R"(plume_http_requests_total{service="messages",method="find",status="200"} 2)"),
            std::string::npos);
  EXPECT_NE(text.find(R"(plume_http_requests_total{service="messages",method="find",status="404"} 1)"),
            std::string::npos);
  // Buckets are cumulative: two requests under 5 ms, all three under 250 ms.
  EXPECT_NE(
      text.find(
          R"(plume_http_request_duration_seconds_bucket{service="messages",method="find",le="0.005"} 2)"),
      std::string::npos)
      << text;
  EXPECT_NE(
      text.find(
          R"(plume_http_request_duration_seconds_bucket{service="messages",method="find",le="0.25"} 3)"),
      std::string::npos);
  EXPECT_NE(text.find(R"(plume_http_request_duration_seconds_count{service="messages",method="find"} 3)"),
            std::string::npos);
  EXPECT_NE(text.find("plume_http_requests_in_flight 3\n"), std::string::npos);
  EXPECT_NE(text.find("plume_http_connections 4\n"), std::string::npos);
}

TEST(HttpMetrics, UnregisteredStatusCodesShareOneSeries) {
  HttpMetrics metrics(1);
  for (int status = 600; status < 700; ++status) metrics.record("messages", "find", status, 0.001);
  metrics.record("messages", "find", 429, 0.001);
  auto text = metrics.render(0, 0);
  EXPECT_NE(text.find(R"(plume_http_requests_total{service="messages",method="find",status="other"} 100)"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find(R"(plume_http_requests_total{service="messages",method="find",status="429"} 1)"),
            std::string::npos);
  EXPECT_EQ(text.find("status=\"650\""), std::string::npos);
}

TEST(HttpMetrics, LabelValuesAreEscaped) { EXPECT_EQ(escape_label_value("a\"b\\c\nd"), "a\\\"b\\\\c\\nd"); }

}  // namespace
}  // namespace plume::transport
