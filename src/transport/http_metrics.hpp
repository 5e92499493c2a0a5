// HttpMetrics counts requests and their latency per (service, method, status) in one shard per
// I/O thread, so recording a request is an uncontended lock and a small map lookup. /metrics
// renders the shards next to the process registry's metrics, in Prometheus' text format.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

namespace plume::transport {

class HttpMetrics {
 public:
  // Upper bounds of the latency buckets, in seconds (Prometheus' defaults).
  static constexpr std::array<double, 11> kBuckets{0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                   0.5,   1.0,  2.5,   5.0,  10.0};

  explicit HttpMetrics(std::size_t shards);
  ~HttpMetrics();

  // Makes the calling thread record into shard `index` (each I/O thread calls this once).
  void bind_thread(std::size_t index);

  // The caller bounds `service` and `method` to names the node knows; a status that is not a
  // registered HTTP status code is recorded as status="other".
  void record(std::string_view service, std::string_view method, int status, double seconds);

  // plume_http_requests_total, plume_http_request_duration_seconds, plume_http_requests_in_flight,
  // plume_http_connections.
  std::string render(std::size_t in_flight, std::size_t connections) const;

 private:
  struct Series {
    std::uint64_t count = 0;
    double sum = 0;
    std::array<std::uint64_t, kBuckets.size()> buckets{};  // not cumulative
  };
  using Key = std::tuple<std::string, std::string, int>;
  struct Shard {
    mutable std::mutex mutex;
    std::map<Key, Series, std::less<>> series;
  };
  Shard& shard_for_thread();

  std::vector<std::unique_ptr<Shard>> shards_;
};

// Escapes a Prometheus label value (backslash, double quote, newline).
std::string escape_label_value(std::string_view value);

}  // namespace plume::transport
