// An upstream pool: its targets with their health, the balancing choice among them, and per
// target the idle keep-alive connections, kept per I/O thread (a socket belongs to the
// io_context of the thread that opened it, and a proxied exchange never leaves its thread).
#pragma once

#include <plume/gateway/gateway.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace plume::gateway {

struct TargetAddress {
  std::string url;   // as configured
  std::string host;  // "127.0.0.1", "my.service.com"
  std::uint16_t port = 80;
  std::string base_path;    // "/base" or ""
  std::string host_header;  // "host" or "host:port" (port omitted when 80)
};

// Parses "http://host[:port][/base]"; throws plume::Error BadRequest naming the URL otherwise
// (https targets included: this gateway speaks plain HTTP to its upstreams).
TargetAddress parse_target(std::string_view url);

class Target {
 public:
  Target(TargetAddress address, const HealthCheckOptions& health, std::size_t max_idle,
         std::chrono::milliseconds idle_timeout);

  const TargetAddress& address() const noexcept { return address_; }

  // Up and not in a passive cool-down.
  bool available(std::chrono::steady_clock::time_point now) const noexcept;
  bool up() const noexcept { return up_.load(std::memory_order_relaxed); }

  // Passive checks from live traffic.
  void report_failure(std::string_view reason);
  void report_success();
  // Active checks.
  void report_probe(bool healthy, std::string_view detail);

  std::atomic<int>& active() noexcept { return active_; }

  // An idle connection to this target opened on `context`'s thread, checked for a close by the
  // peer; nullopt when there is none.
  std::optional<boost::asio::ip::tcp::socket> take_idle(boost::asio::execution_context& context);
  void give_back(boost::asio::ip::tcp::socket socket);
  void close_idle();
  void set_closed() { closed_.store(true); }

 private:
  struct Idle {
    boost::asio::ip::tcp::socket socket;
    std::chrono::steady_clock::time_point since;
  };

  TargetAddress address_;
  HealthCheckOptions health_;
  std::size_t max_idle_;
  std::chrono::milliseconds idle_timeout_;
  std::atomic<bool> up_{true};
  std::atomic<std::int64_t> down_until_{0};  // steady_clock ticks; passive cool-down
  std::atomic<int> active_{0};
  std::atomic<bool> closed_{false};
  std::mutex health_mutex_;
  int failures_ = 0;
  int probe_failures_ = 0;
  int probe_successes_ = 0;
  std::mutex idle_mutex_;
  std::unordered_map<boost::asio::execution_context*, std::vector<Idle>> idle_;
};

// Picks targets: round-robin, least connections or a consistent hash, over available targets,
// skipping those already tried by this request.
class Balancer {
 public:
  Balancer(std::vector<std::shared_ptr<Target>> targets, Balance balance);

  const std::vector<std::shared_ptr<Target>>& targets() const noexcept { return targets_; }
  // -1 when no available target is left.
  int choose(std::string_view hash_key, const std::vector<int>& tried);

 private:
  std::vector<std::shared_ptr<Target>> targets_;
  Balance balance_;
  std::atomic<std::uint64_t> next_{0};
  // Consistent hashing: virtual nodes on a ring, (point, target index) sorted by point.
  std::vector<std::pair<std::uint64_t, int>> ring_;
};

std::uint64_t hash64(std::string_view text);

}  // namespace plume::gateway
