#include <plume/core/metrics.hpp>

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace plume {
namespace {

TEST(Metrics, CounterRendersHelpTypeAndLabelledSamples) {
  MetricsRegistry registry;
  registry.describe("plume_requests_total", "counter", "Service calls.");
  registry.increment("plume_requests_total", {{"method", "find"}, {"status", "200"}});
  registry.increment("plume_requests_total", {{"method", "find"}, {"status", "200"}}, 2);
  registry.increment("plume_requests_total", {{"method", "create"}, {"status", "201"}});
  EXPECT_EQ(registry.render(),
            "# HELP plume_requests_total Service calls.\n"
            "# TYPE plume_requests_total counter\n"
            "plume_requests_total{method=\"create\",status=\"201\"} 1\n"
            "plume_requests_total{method=\"find\",status=\"200\"} 3\n");
}

TEST(Metrics, LabelValuesAndHelpAreEscaped) {
  MetricsRegistry registry;
  registry.describe("plume_paths", "gauge", "Paths with \\ and\nnewlines.");
  registry.set_gauge("plume_paths", {{"path", "a\"b\\c\nd"}}, 1.5);
  EXPECT_EQ(registry.render(),
            "# HELP plume_paths Paths with \\\\ and\\nnewlines.\n"
            "# TYPE plume_paths gauge\n"
            "plume_paths{path=\"a\\\"b\\\\c\\nd\"} 1.5\n");
}

TEST(Metrics, GaugesSetAndAdd) {
  MetricsRegistry registry;
  registry.set_gauge("plume_connections", {}, 5);
  registry.add_gauge("plume_connections", {}, -2);
  EXPECT_EQ(registry.render(), "# TYPE plume_connections gauge\nplume_connections 3\n");
}

TEST(Metrics, HistogramBucketsAreCumulativeWithInfSumAndCount) {
  MetricsRegistry registry;
  registry.describe("plume_latency_seconds", "histogram", "Latency.", {0.1, 0.5, 1});
  registry.observe("plume_latency_seconds", {{"path", "messages"}}, 0.05);
  registry.observe("plume_latency_seconds", {{"path", "messages"}}, 0.1);
  registry.observe("plume_latency_seconds", {{"path", "messages"}}, 0.7);
  registry.observe("plume_latency_seconds", {{"path", "messages"}}, 3);
  EXPECT_EQ(registry.render(),
            "# HELP plume_latency_seconds Latency.\n"
            "# TYPE plume_latency_seconds histogram\n"
            "plume_latency_seconds_bucket{path=\"messages\",le=\"0.1\"} 2\n"
            "plume_latency_seconds_bucket{path=\"messages\",le=\"0.5\"} 2\n"
            "plume_latency_seconds_bucket{path=\"messages\",le=\"1\"} 3\n"
            "plume_latency_seconds_bucket{path=\"messages\",le=\"+Inf\"} 4\n"
            "plume_latency_seconds_sum{path=\"messages\"} 3.85\n"
            "plume_latency_seconds_count{path=\"messages\"} 4\n");
}

TEST(Metrics, UndeclaredHistogramUsesLatencyBuckets) {
  MetricsRegistry registry;
  registry.observe("plume_db_seconds", {}, 0.003);
  const std::string text = registry.render();
  EXPECT_NE(text.find("plume_db_seconds_bucket{le=\"0.005\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("plume_db_seconds_bucket{le=\"10\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("plume_db_seconds_count 1\n"), std::string::npos) << text;
}

TEST(Metrics, ConcurrentIncrementsAreAllCounted) {
  MetricsRegistry registry;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) registry.increment("plume_hits_total", {{"node", "a"}});
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_NE(registry.render().find("plume_hits_total{node=\"a\"} 40000\n"), std::string::npos);
}

TEST(Metrics, GlobalIsOneRegistry) { EXPECT_EQ(&MetricsRegistry::global(), &MetricsRegistry::global()); }

}  // namespace
}  // namespace plume
