#include "mesh/udp_discovery.hpp"

#include "mesh/discovery_peers.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/multicast.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <spdlog/spdlog.h>

#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <mutex>

namespace plume::mesh {

namespace asio = boost::asio;
using asio::ip::udp;
using Clock = std::chrono::steady_clock;

namespace {

constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);
// The quick second announcement at start covers one lost datagram without waiting a full
// interval; replies to newcomers are spaced at least this much apart.
constexpr std::chrono::milliseconds kQuickRepeat{100};

std::string host_of(std::string_view address) {
  if (!address.empty() && address.front() == '[') {
    const auto close = address.find(']');
    return std::string(
        address.substr(1, close == std::string_view::npos ? std::string_view::npos : close - 1));
  }
  const auto colon = address.rfind(':');
  return std::string(colon == std::string_view::npos ? address : address.substr(0, colon));
}

// The interface to join the group on and send from: multicast_interface, else the host the node
// binds (its advertised address). A wildcard or a name that is not an IPv4 literal leaves the
// choice to the kernel (the interface of the default route), except "localhost".
asio::ip::address_v4 interface_address(const std::string& configured, const std::string& self_address) {
  std::string host = configured.empty() ? host_of(self_address) : configured;
  if (host == "localhost") host = "127.0.0.1";
  boost::system::error_code ec;
  const auto address = asio::ip::make_address_v4(host, ec);
  return ec ? asio::ip::address_v4::any() : address;
}

}  // namespace

struct UdpDiscovery::State : std::enable_shared_from_this<UdpDiscovery::State> {
  State(asio::any_io_executor executor, const MeshOptions& options)
      : strand(asio::make_strand(std::move(executor))),
        socket(strand),
        announce_timer(strand),
        check_timer(strand),
        secret(options.secret),
        configured_interface(options.multicast_interface),
        port(options.multicast_port),
        ttl(options.multicast_ttl),
        interval(options.announce_interval),
        node_timeout(options.node_timeout),
        group(asio::ip::make_address_v4(options.multicast_group)),
        peers("", options.node_timeout) {}

  asio::strand<asio::any_io_executor> strand;
  udp::socket socket;
  asio::steady_timer announce_timer;
  asio::steady_timer check_timer;
  std::string secret;
  std::string configured_interface;
  std::uint16_t port;
  std::uint8_t ttl;
  std::chrono::milliseconds interval;
  std::chrono::milliseconds node_timeout;
  asio::ip::address_v4 group;
  asio::ip::address_v4 interface;

  // Strand-only state.
  Announcement self;
  PeerTable peers;
  bool running = false;
  Clock::time_point last_sent{};
  std::array<char, 65536> buffer{};

  std::atomic<std::uint64_t> seq{0};
  std::atomic<std::uint64_t> rejected{0};
  GuardedEvents events;
  mutable std::mutex status_mutex;
  std::string status = "udp discovery is not started";

  void set_status(std::string text) {
    std::lock_guard lock(status_mutex);
    status = std::move(text);
  }

  // Applies the socket options every sending socket needs (the receiving one and the one-shot
  // goodbye socket): the outgoing interface, TTL and loopback, so nodes on this host hear it.
  void prepare_sender(udp::socket& s) const {
    if (interface != asio::ip::address_v4::any())
      s.set_option(asio::ip::multicast::outbound_interface(interface));
    s.set_option(asio::ip::multicast::hops(ttl));
    s.set_option(asio::ip::multicast::enable_loopback(true));
  }

  void open() {
    socket.open(udp::v4());
    socket.set_option(udp::socket::reuse_address(true));
#ifdef IP_MULTICAST_ALL
    // Linux delivers datagrams of every group joined by any socket on the port unless told not
    // to; only our group's are ours.
    const int all = 0;
    ::setsockopt(socket.native_handle(), IPPROTO_IP, IP_MULTICAST_ALL, &all, sizeof all);
#endif
    // Bound to the group address (Linux): unicast datagrams to the port do not reach us.
    socket.bind(udp::endpoint(group, port));
    socket.set_option(asio::ip::multicast::join_group(group, interface));
    prepare_sender(socket);
  }

  std::string next_packet(bool goodbye) {
    Announcement announcement = self;
    announcement.seq = ++seq;
    announcement.goodbye = goodbye;
    return encode_announcement(announcement, secret);
  }

  asio::awaitable<void> announce_loop() {
    auto keep = shared_from_this();
    int sent = 0;
    while (running) {
      std::string packet = next_packet(false);
      auto [ec, n] =
          co_await socket.async_send_to(asio::buffer(packet), udp::endpoint(group, port), kUseTuple);
      if (!running) co_return;
      if (ec) {
        set_status("udp discovery cannot send to " + group.to_string() + ":" + std::to_string(port) + ": " +
                   ec.message());
        spdlog::warn("event=discovery_send_failed backend=udp group={}:{} error=\"{}\"", group.to_string(),
                     port, ec.message());
      } else {
        set_status("");
      }
      last_sent = Clock::now();
      ++sent;
      announce_timer.expires_at(last_sent + (sent == 1 ? std::min(kQuickRepeat, interval) : interval));
      co_await announce_timer.async_wait(kUseTuple);  // cancelled early: a newcomer is waiting
    }
  }

  // A newcomer should hear of us now, not at our next interval.
  void announce_soon() {
    const auto earliest = last_sent + kQuickRepeat;
    if (announce_timer.expiry() > earliest) announce_timer.expires_at(std::max(earliest, Clock::now()));
  }

  asio::awaitable<void> receive_loop() {
    auto keep = shared_from_this();
    udp::endpoint sender;
    while (running) {
      auto [ec, n] = co_await socket.async_receive_from(asio::buffer(buffer), sender, kUseTuple);
      if (!running) co_return;
      if (ec) {
        if (ec == asio::error::operation_aborted) co_return;
        spdlog::warn("event=discovery_receive_failed backend=udp error=\"{}\"", ec.message());
        continue;
      }
      handle(std::string_view(buffer.data(), n), sender);
    }
  }

  void handle(std::string_view packet, const udp::endpoint& sender) {
    auto announcement = decode_announcement(packet, secret);
    if (!announcement) {
      const auto count = ++rejected;
      // One line for the first and then every thousandth: a foreign cluster on the same group
      // would otherwise flood the log.
      if (count == 1 || count % 1000 == 0) {
        spdlog::warn(
            "event=discovery_rejected backend=udp from={} rejected={} reason=\"bad signature, version or "
            "format (is mesh.secret the same on every node?)\"",
            sender.address().to_string(), count);
      }
      return;
    }
    const bool known = peers.knows(announcement->instance);
    switch (peers.accept(*announcement, Clock::now())) {
      case PeerTable::Verdict::Seen:
        if (!known) {
          spdlog::info("event=discovery_seen backend=udp node={} instance={} address={}", announcement->node,
                       announcement->instance, announcement->address);
          announce_soon();
        }
        events.seen(*announcement);
        break;
      case PeerTable::Verdict::Gone:
        spdlog::info("event=discovery_goodbye backend=udp node={} instance={}", announcement->node,
                     announcement->instance);
        events.gone(announcement->instance);
        break;
      case PeerTable::Verdict::Ignore:
        break;
    }
  }

  asio::awaitable<void> check_loop() {
    auto keep = shared_from_this();
    // Expiry is checked a few times per node_timeout so that detection is late by a fraction of
    // it at most.
    const auto period = std::max(std::chrono::milliseconds(20), std::min(interval, node_timeout / 4));
    while (running) {
      check_timer.expires_after(period);
      co_await check_timer.async_wait(kUseTuple);
      if (!running) co_return;
      for (const auto& instance : peers.expire(Clock::now())) {
        spdlog::info("event=discovery_timeout backend=udp instance={} timeout_ms={}", instance,
                     node_timeout.count());
        events.gone(instance);
      }
    }
  }

  void close() {
    running = false;
    boost::system::error_code ignored;
    announce_timer.cancel();
    check_timer.cancel();
    socket.close(ignored);
    set_status("udp discovery is stopped");
  }
};

UdpDiscovery::UdpDiscovery(asio::any_io_executor executor, const MeshOptions& options) {
  boost::system::error_code ec;
  asio::ip::make_address_v4(options.multicast_group, ec);
  if (ec || !asio::ip::make_address_v4(options.multicast_group, ec).is_multicast()) {
    throw std::invalid_argument("mesh multicast group '" + options.multicast_group +
                                "' is not an IPv4 multicast address (use one in 239.0.0.0/8)");
  }
  state_ = std::make_shared<State>(std::move(executor), options);
}

UdpDiscovery::~UdpDiscovery() { stop(); }

void UdpDiscovery::start(Announcement self, DiscoveryEvents events) {
  auto state = state_;
  if (!state->events.stopped()) return;
  // Written before any strand work and never again: stop() reads them from any thread.
  state->self = std::move(self);
  state->interface = interface_address(state->configured_interface, state->self.address);
  state->peers = PeerTable(state->self.instance, state->node_timeout);
  state->events.set(std::move(events));
  asio::dispatch(state->strand, [state] {
    try {
      state->open();
    } catch (const boost::system::system_error& e) {
      boost::system::error_code ignored;
      state->socket.close(ignored);
      state->set_status("udp discovery cannot join " + state->group.to_string() + ":" +
                        std::to_string(state->port) + " on " + state->interface.to_string() + ": " +
                        e.what());
      spdlog::error("event=discovery_failed backend=udp group={}:{} interface={} error=\"{}\"",
                    state->group.to_string(), state->port, state->interface.to_string(), e.what());
      return;
    }
    if (state->events.stopped()) {  // stopped before the socket was open
      state->close();
      return;
    }
    state->running = true;
    state->set_status("");
    spdlog::info("event=discovery_started backend=udp group={}:{} interface={} instance={}",
                 state->group.to_string(), state->port, state->interface.to_string(), state->self.instance);
    asio::co_spawn(state->strand, state->receive_loop(), asio::detached);
    asio::co_spawn(state->strand, state->announce_loop(), asio::detached);
    asio::co_spawn(state->strand, state->check_loop(), asio::detached);
  });
}

void UdpDiscovery::stop() {
  auto state = state_;
  if (state->events.stopped()) return;
  state->events.stop();
  // The goodbye goes out from a socket of its own, synchronously: stop() may run on any thread,
  // even after the executor stopped running, and a datagram send does not wait. Sent twice, as a
  // lost goodbye only costs a node_timeout of delay.
  try {
    udp::socket once(state->strand.get_inner_executor(), udp::v4());
    state->prepare_sender(once);
    for (int i = 0; i < 2; ++i) {
      std::string packet;
      {
        Announcement bye = state->self;
        bye.seq = ++state->seq;
        bye.goodbye = true;
        packet = encode_announcement(bye, state->secret);
      }
      once.send_to(asio::buffer(packet), udp::endpoint(state->group, state->port));
    }
    spdlog::info("event=discovery_goodbye_sent backend=udp instance={}", state->self.instance);
  } catch (const std::exception& e) {
    spdlog::warn("event=discovery_goodbye_failed backend=udp error=\"{}\"", e.what());
  }
  asio::dispatch(state->strand, [state] { state->close(); });
}

std::string UdpDiscovery::readiness() const {
  if (state_->events.stopped()) return "udp discovery is not running";
  std::lock_guard lock(state_->status_mutex);
  return state_->status;
}

std::uint64_t UdpDiscovery::rejected() const noexcept { return state_->rejected.load(); }

}  // namespace plume::mesh
