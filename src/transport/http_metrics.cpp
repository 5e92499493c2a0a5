#include "transport/http_metrics.hpp"

#include <boost/beast/http/status.hpp>

#include <algorithm>
#include <charconv>

namespace plume::transport {
namespace {

thread_local const HttpMetrics* bound_metrics = nullptr;
thread_local std::size_t bound_shard = 0;

// Statuses outside the registered HTTP codes share one series, rendered status="other".
constexpr int kOtherStatus = 0;

std::string status_label(int status) { return status == kOtherStatus ? "other" : std::to_string(status); }

void append_number(std::string& out, double value) {
  // Shortest text that reads back as the same double: 0.005, not 0.0050000000000000001.
  char text[32];
  auto [end, ec] = std::to_chars(text, text + sizeof text, value);
  out.append(text, end);
}

}  // namespace

std::string escape_label_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

HttpMetrics::HttpMetrics(std::size_t shards) {
  for (std::size_t i = 0; i < std::max<std::size_t>(shards, 1); ++i) {
    shards_.push_back(std::make_unique<Shard>());
  }
}

HttpMetrics::~HttpMetrics() = default;

void HttpMetrics::bind_thread(std::size_t index) {
  bound_metrics = this;
  bound_shard = index % shards_.size();
}

HttpMetrics::Shard& HttpMetrics::shard_for_thread() {
  return *shards_[bound_metrics == this ? bound_shard : 0];
}

void HttpMetrics::record(std::string_view service, std::string_view method, int status, double seconds) {
  namespace http = boost::beast::http;
  if (status < 100 || status > 999 ||
      http::int_to_status(static_cast<unsigned>(status)) == http::status::unknown) {
    status = kOtherStatus;
  }
  Shard& shard = shard_for_thread();
  std::lock_guard lock(shard.mutex);
  auto key = std::make_tuple(service, method, status);
  auto it = shard.series.find(key);
  if (it == shard.series.end()) {
    it = shard.series.emplace(Key{std::string(service), std::string(method), status}, Series{}).first;
  }
  Series& series = it->second;
  ++series.count;
  series.sum += seconds;
  auto bucket = std::lower_bound(kBuckets.begin(), kBuckets.end(), seconds);
  if (bucket != kBuckets.end()) ++series.buckets[static_cast<std::size_t>(bucket - kBuckets.begin())];
}

std::string HttpMetrics::render(std::size_t in_flight, std::size_t connections) const {
  // Merge the shards: counters by (service, method, status), histograms by (service, method).
  std::map<Key, std::uint64_t, std::less<>> counts;
  std::map<std::pair<std::string, std::string>, Series> latency;
  for (const auto& shard : shards_) {
    std::lock_guard lock(shard->mutex);
    for (const auto& [key, series] : shard->series) {
      counts[key] += series.count;
      Series& merged = latency[{std::get<0>(key), std::get<1>(key)}];
      merged.count += series.count;
      merged.sum += series.sum;
      for (std::size_t i = 0; i < kBuckets.size(); ++i) merged.buckets[i] += series.buckets[i];
    }
  }

  std::string out;
  out.reserve(256 + counts.size() * 96 + latency.size() * 1200);
  out += "# HELP plume_http_requests_total HTTP requests answered, by service, method and status.\n";
  out += "# TYPE plume_http_requests_total counter\n";
  for (const auto& [key, count] : counts) {
    out += "plume_http_requests_total{service=\"" + escape_label_value(std::get<0>(key)) + "\",method=\"" +
           escape_label_value(std::get<1>(key)) + "\",status=\"" + status_label(std::get<2>(key)) + "\"} " +
           std::to_string(count) + "\n";
  }
  out += "# HELP plume_http_request_duration_seconds Time to answer an HTTP request.\n";
  out += "# TYPE plume_http_request_duration_seconds histogram\n";
  for (const auto& [key, series] : latency) {
    std::string labels =
        "service=\"" + escape_label_value(key.first) + "\",method=\"" + escape_label_value(key.second) + "\"";
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < kBuckets.size(); ++i) {
      cumulative += series.buckets[i];
      out += "plume_http_request_duration_seconds_bucket{" + labels + ",le=\"";
      append_number(out, kBuckets[i]);
      out += "\"} " + std::to_string(cumulative) + "\n";
    }
    out += "plume_http_request_duration_seconds_bucket{" + labels + ",le=\"+Inf\"} " +
           std::to_string(series.count) + "\n";
    out += "plume_http_request_duration_seconds_sum{" + labels + "} ";
    append_number(out, series.sum);
    out +=
        "\nplume_http_request_duration_seconds_count{" + labels + "} " + std::to_string(series.count) + "\n";
  }
  out += "# HELP plume_http_requests_in_flight HTTP requests being answered.\n";
  out += "# TYPE plume_http_requests_in_flight gauge\n";
  out += "plume_http_requests_in_flight " + std::to_string(in_flight) + "\n";
  out += "# HELP plume_http_connections Open HTTP connections.\n";
  out += "# TYPE plume_http_connections gauge\n";
  out += "plume_http_connections " + std::to_string(connections) + "\n";
  return out;
}

}  // namespace plume::transport
