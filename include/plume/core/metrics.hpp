// Metrics: counters, gauges and histograms with labels, rendered in Prometheus' text format
// for GET /metrics. One registry per process; every layer records into it.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace plume {

using MetricLabels = std::vector<std::pair<std::string, std::string>>;

class MetricsRegistry {
 public:
  MetricsRegistry();
  ~MetricsRegistry();

  // Declares a metric's help text and type ("counter", "gauge", "histogram"). Histograms use
  // latency buckets in seconds (5 ms .. 10 s) unless buckets are given.
  void describe(std::string_view name, std::string_view type, std::string_view help,
                std::vector<double> buckets = {});

  void increment(std::string_view name, const MetricLabels& labels = {}, double by = 1.0);
  void set_gauge(std::string_view name, const MetricLabels& labels, double value);
  void add_gauge(std::string_view name, const MetricLabels& labels, double delta);
  void observe(std::string_view name, const MetricLabels& labels, double value);

  // Prometheus text exposition format 0.0.4.
  std::string render() const;

  // The process-wide registry.
  static MetricsRegistry& global();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace plume
