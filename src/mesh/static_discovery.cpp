#include "mesh/static_discovery.hpp"

#include "mesh/discovery_peers.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <spdlog/spdlog.h>

#include <charconv>
#include <stdexcept>

namespace plume::mesh {

namespace asio = boost::asio;

std::string static_peer_address(std::string_view url) {
  std::string_view rest = url;
  // Both schemes dial the same link: mesh.tls decides whether it runs inside TLS.
  if (rest.starts_with("ws://")) {
    rest.remove_prefix(5);
  } else if (rest.starts_with("wss://")) {
    rest.remove_prefix(6);
  } else if (rest.find("://") != std::string_view::npos) {
    throw std::invalid_argument("mesh peer '" + std::string(url) +
                                "' must be ws://host:port or wss://host:port (mesh links are at /_mesh)");
  }
  while (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  if (rest.ends_with("/_mesh")) rest.remove_suffix(6);
  const auto colon = rest.rfind(':');
  const auto bracket = rest.rfind(']');
  bool valid = colon != std::string_view::npos && colon > 0 && colon + 1 < rest.size() &&
               (bracket == std::string_view::npos || bracket < colon) &&
               rest.find('/') == std::string_view::npos;
  if (valid) {
    unsigned port = 0;
    const auto digits = rest.substr(colon + 1);
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
    valid = ec == std::errc() && end == digits.data() + digits.size() && port > 0 && port <= 65535;
  }
  if (!valid) {
    throw std::invalid_argument("mesh peer '" + std::string(url) +
                                "' must be ws://host:port with a port number");
  }
  return std::string(rest);
}

struct StaticDiscovery::State : std::enable_shared_from_this<StaticDiscovery::State> {
  State(asio::any_io_executor executor, std::vector<std::string> addresses,
        std::chrono::milliseconds interval)
      : strand(asio::make_strand(std::move(executor))),
        timer(strand),
        addresses(std::move(addresses)),
        interval(interval) {}

  asio::strand<asio::any_io_executor> strand;
  asio::steady_timer timer;
  std::vector<std::string> addresses;
  std::chrono::milliseconds interval;
  GuardedEvents events;

  asio::awaitable<void> run() {
    auto keep = shared_from_this();
    while (!events.stopped()) {
      for (const auto& address : addresses) {
        Announcement peer;
        peer.address = address;
        events.seen(peer);
      }
      timer.expires_after(interval);
      auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
      if (ec == asio::error::operation_aborted) co_return;
    }
  }
};

StaticDiscovery::StaticDiscovery(asio::any_io_executor executor, const MeshOptions& options) {
  std::vector<std::string> addresses;
  for (const auto& peer : options.peers) addresses.push_back(static_peer_address(peer));
  state_ = std::make_shared<State>(std::move(executor), std::move(addresses), options.announce_interval);
}

StaticDiscovery::~StaticDiscovery() { stop(); }

void StaticDiscovery::start(Announcement self, DiscoveryEvents events) {
  if (!state_->events.stopped()) return;
  // A node listed in its own peers would dial itself: leave it out.
  std::erase(state_->addresses, self.address);
  state_->events.set(std::move(events));
  spdlog::info("event=discovery_started backend=static peers={}", state_->addresses.size());
  asio::co_spawn(state_->strand, state_->run(), asio::detached);
}

void StaticDiscovery::stop() {
  if (state_->events.stopped()) return;
  state_->events.stop();
  auto state = state_;
  asio::dispatch(state->strand, [state] { state->timer.cancel(); });
}

std::string StaticDiscovery::readiness() const {
  return state_->events.stopped() ? "static discovery is not running" : "";
}

}  // namespace plume::mesh
