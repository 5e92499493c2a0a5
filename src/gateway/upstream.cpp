#include "gateway/upstream.hpp"

#include <plume/core/error.hpp>

#include <spdlog/spdlog.h>

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <charconv>

namespace plume::gateway {
namespace {

using Clock = std::chrono::steady_clock;

bool was_tried(const std::vector<int>& tried, int index) {
  return std::find(tried.begin(), tried.end(), index) != tried.end();
}

// An idle keep-alive connection the upstream closed (or wrote to unasked) is unusable; a
// non-blocking peek tells without waiting.
bool still_open(boost::asio::ip::tcp::socket& socket) {
  char byte;
  ssize_t n = ::recv(socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

}  // namespace

std::uint64_t hash64(std::string_view text) {
  // FNV-1a, then a final mix so that nearby keys spread over the ring.
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ull;
  }
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  return h;
}

TargetAddress parse_target(std::string_view url) {
  auto fail = [&](std::string why) -> TargetAddress {
    throw bad_request("gateway target \"" + std::string(url) + "\" " + why);
  };
  constexpr std::string_view scheme = "http://";
  if (url.starts_with("https://")) return fail("uses https; upstreams are reached over plain http://");
  if (!url.starts_with(scheme)) return fail("is not an http:// URL");
  std::string_view rest = url.substr(scheme.size());
  auto slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  TargetAddress address;
  address.url = std::string(url);
  address.base_path = slash == std::string_view::npos ? "" : std::string(rest.substr(slash));
  while (address.base_path.ends_with('/')) address.base_path.pop_back();
  std::string_view host = authority;
  std::string_view port;
  if (authority.starts_with('[')) {
    auto close = authority.find(']');
    if (close == std::string_view::npos) return fail("has an unclosed IPv6 bracket");
    host = authority.substr(1, close - 1);
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':') return fail("has junk after the IPv6 address");
      port = authority.substr(close + 2);
    }
  } else if (auto colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
  }
  if (host.empty()) return fail("has no host");
  address.host = std::string(host);
  if (!port.empty()) {
    unsigned value = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || end != port.data() + port.size() || value == 0 || value > 65535) {
      return fail("has an invalid port");
    }
    address.port = static_cast<std::uint16_t>(value);
  }
  address.host_header = std::string(authority);
  if (address.port == 80 && !port.empty())
    address.host_header = std::string(authority.substr(0, authority.rfind(':')));
  return address;
}

Target::Target(TargetAddress address, const HealthCheckOptions& health, std::size_t max_idle,
               std::chrono::milliseconds idle_timeout)
    : address_(std::move(address)), health_(health), max_idle_(max_idle), idle_timeout_(idle_timeout) {}

bool Target::available(Clock::time_point now) const noexcept {
  return up_.load(std::memory_order_relaxed) &&
         now.time_since_epoch().count() >= down_until_.load(std::memory_order_relaxed);
}

void Target::report_failure(std::string_view reason) {
  std::lock_guard lock(health_mutex_);
  if (++failures_ < std::max(1, health_.unhealthy)) return;
  failures_ = 0;
  auto until = Clock::now() + health_.interval;
  if (down_until_.load() < until.time_since_epoch().count()) {
    spdlog::warn("event=upstream_down target={} check=passive reason=\"{}\" for_ms={}", address_.url, reason,
                 health_.interval.count());
  }
  down_until_.store(until.time_since_epoch().count());
}

void Target::report_success() {
  std::lock_guard lock(health_mutex_);
  failures_ = 0;
}

void Target::report_probe(bool healthy, std::string_view detail) {
  std::lock_guard lock(health_mutex_);
  if (healthy) {
    probe_failures_ = 0;
    if (++probe_successes_ >= std::max(1, health_.healthy)) {
      probe_successes_ = 0;
      bool was_down = !up_.exchange(true) || down_until_.load() > Clock::now().time_since_epoch().count();
      down_until_.store(0);
      failures_ = 0;
      if (was_down) spdlog::info("event=upstream_up target={} check=active", address_.url);
    }
  } else {
    probe_successes_ = 0;
    if (++probe_failures_ >= std::max(1, health_.unhealthy)) {
      probe_failures_ = 0;
      if (up_.exchange(false)) {
        spdlog::warn("event=upstream_down target={} check=active reason=\"{}\"", address_.url, detail);
      }
    }
  }
}

std::optional<boost::asio::ip::tcp::socket> Target::take_idle(boost::asio::execution_context& context) {
  std::vector<Idle> stale;
  std::optional<boost::asio::ip::tcp::socket> found;
  {
    std::lock_guard lock(idle_mutex_);
    auto it = idle_.find(&context);
    if (it == idle_.end()) return std::nullopt;
    auto& list = it->second;
    const auto oldest = Clock::now() - idle_timeout_;
    while (!list.empty()) {
      Idle idle = std::move(list.back());
      list.pop_back();
      if (idle.since >= oldest && still_open(idle.socket)) {
        found.emplace(std::move(idle.socket));
        break;
      }
      stale.push_back(std::move(idle));
    }
  }
  // Closed outside the lock, on the socket's own thread.
  return found;
}

void Target::give_back(boost::asio::ip::tcp::socket socket) {
  if (closed_.load(std::memory_order_relaxed)) return;
  auto& context = socket.get_executor().context();
  std::lock_guard lock(idle_mutex_);
  auto& list = idle_[&context];
  if (list.size() >= max_idle_) return;
  list.push_back(Idle{std::move(socket), Clock::now()});
}

void Target::close_idle() {
  std::unordered_map<boost::asio::execution_context*, std::vector<Idle>> idle;
  {
    std::lock_guard lock(idle_mutex_);
    idle.swap(idle_);
  }
  boost::system::error_code ignored;
  for (auto& [context, list] : idle) {
    for (auto& entry : list) entry.socket.close(ignored);
  }
}

Balancer::Balancer(std::vector<std::shared_ptr<Target>> targets, Balance balance)
    : targets_(std::move(targets)), balance_(balance) {
  if (balance_ == Balance::Hash) {
    constexpr int kPointsPerTarget = 160;
    for (int i = 0; i < static_cast<int>(targets_.size()); ++i) {
      for (int point = 0; point < kPointsPerTarget; ++point) {
        ring_.emplace_back(hash64(targets_[i]->address().url + "#" + std::to_string(point)), i);
      }
    }
    std::sort(ring_.begin(), ring_.end());
  }
}

int Balancer::choose(std::string_view hash_key, const std::vector<int>& tried) {
  const auto now = Clock::now();
  const int count = static_cast<int>(targets_.size());
  auto usable = [&](int i) { return !was_tried(tried, i) && targets_[i]->available(now); };
  switch (balance_) {
    case Balance::RoundRobin: {
      const std::uint64_t start = next_.fetch_add(1, std::memory_order_relaxed);
      for (int step = 0; step < count; ++step) {
        int i = static_cast<int>((start + step) % count);
        if (usable(i)) return i;
      }
      return -1;
    }
    case Balance::LeastConnections: {
      // Ties go round-robin so that an idle pool still spreads its load.
      const std::uint64_t start = next_.fetch_add(1, std::memory_order_relaxed);
      int best = -1;
      int best_active = 0;
      for (int step = 0; step < count; ++step) {
        int i = static_cast<int>((start + step) % count);
        if (!usable(i)) continue;
        int active = targets_[i]->active().load(std::memory_order_relaxed);
        if (best < 0 || active < best_active) {
          best = i;
          best_active = active;
        }
      }
      return best;
    }
    case Balance::Hash: {
      if (ring_.empty()) return -1;
      const std::uint64_t point = hash64(hash_key);
      auto it = std::lower_bound(ring_.begin(), ring_.end(), std::make_pair(point, 0));
      // Walk the ring clockwise to the first usable target: a down target's keys move to its
      // neighbours only.
      for (std::size_t step = 0; step < ring_.size(); ++step, ++it) {
        if (it == ring_.end()) it = ring_.begin();
        if (usable(it->second)) return it->second;
      }
      return -1;
    }
  }
  return -1;
}

}  // namespace plume::gateway
