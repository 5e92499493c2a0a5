#include "mesh/discovery.hpp"

#include "mesh/discovery_test_support.hpp"
#include "mesh/static_discovery.hpp"

#include <boost/asio/ip/multicast.hpp>
#include <boost/asio/ip/udp.hpp>

#include <gtest/gtest.h>

namespace plume::mesh {
namespace {

using namespace std::chrono_literals;
using testing::DiscoveryRecorder;
using testing::EventLoop;
namespace asio = boost::asio;
using asio::ip::udp;

constexpr const char* kSecret = "s3cret";
constexpr const char* kGroup = "239.255.42.99";

// A UDP port no other test uses right now: each test gets its own, so parallel test processes
// on this host never hear each other.
std::uint16_t free_udp_port() {
  asio::io_context context;
  udp::socket socket(context, udp::endpoint(asio::ip::make_address_v4("127.0.0.1"), 0));
  return socket.local_endpoint().port();
}

MeshOptions udp_options(std::uint16_t port, std::string secret = kSecret) {
  MeshOptions options;
  options.secret = std::move(secret);
  options.discovery = "udp";
  options.multicast_group = kGroup;
  options.multicast_port = port;
  return options;
}

Announcement self_of(const std::string& node, std::uint16_t listen_port) {
  Announcement self;
  self.node = node;
  self.instance = random_hex();
  self.address = "127.0.0.1:" + std::to_string(listen_port);
  return self;
}

struct Agent {
  Announcement self;
  DiscoveryRecorder recorder;
  std::unique_ptr<Discovery> discovery;

  Agent(EventLoop& loop, const MeshOptions& options, const std::string& node, std::uint16_t listen_port)
      : self(self_of(node, listen_port)), discovery(make_discovery(loop.executor(), options)) {}
  void start() { discovery->start(self, recorder.events()); }
  // Started and joined to the group: datagrams sent from now on reach it.
  bool wait_ready() {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (discovery->readiness() != "") {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(1ms);
    }
    return true;
  }
};

// Sends hand-made announcements to the group, as a node would that then dies without a word.
class RawAnnouncer {
 public:
  explicit RawAnnouncer(std::uint16_t port) : socket_(context_, udp::v4()), port_(port) {
    socket_.set_option(asio::ip::multicast::outbound_interface(asio::ip::make_address_v4("127.0.0.1")));
    socket_.set_option(asio::ip::multicast::enable_loopback(true));
  }
  void send(const std::string& packet) {
    socket_.send_to(asio::buffer(packet), udp::endpoint(asio::ip::make_address_v4(kGroup), port_));
  }

 private:
  asio::io_context context_;
  udp::socket socket_;
  std::uint16_t port_;
};

TEST(UdpDiscovery, ThreeAgentsOnLoopbackFindEachOtherWithinOneSecond) {
  EventLoop loop;
  const auto port = free_udp_port();
  const MeshOptions options = udp_options(port);  // default intervals
  Agent a(loop, options, "a", 4001), b(loop, options, "b", 4002), c(loop, options, "c", 4003);
  const auto started = std::chrono::steady_clock::now();
  a.start();
  b.start();
  c.start();
  for (Agent* agent : {&a, &b, &c}) {
    ASSERT_TRUE(agent->recorder.wait([&](const DiscoveryRecorder& r) {
      int found = 0;
      for (Agent* other : {&a, &b, &c}) found += other != agent && r.has_seen(other->self.instance);
      return found == 2;
    })) << agent->self.node
        << " did not find both others";
  }
  for (Agent* agent : {&a, &b, &c}) {
    for (Agent* other : {&a, &b, &c}) {
      if (other == agent) continue;
      EXPECT_LT(agent->recorder.first_seen(other->self.instance) - started, 1s);
      const Announcement seen = agent->recorder.seen().at(other->self.instance);
      EXPECT_EQ(seen.node, other->self.node);
      EXPECT_EQ(seen.address, other->self.address);
      EXPECT_FALSE(seen.goodbye);
    }
    EXPECT_FALSE(agent->recorder.has_seen(agent->self.instance)) << "an agent must ignore itself";
    EXPECT_EQ(agent->discovery->readiness(), "");
    EXPECT_EQ(agent->discovery->rejected(), 0u);
  }
}

TEST(UdpDiscovery, AnnouncementsRepeatWithIncreasingSeq) {
  EventLoop loop;
  MeshOptions options = udp_options(free_udp_port());
  options.announce_interval = 50ms;
  options.node_timeout = 500ms;
  Agent a(loop, options, "a", 4001), b(loop, options, "b", 4002);
  a.start();
  b.start();
  ASSERT_TRUE(
      b.recorder.wait([&](const DiscoveryRecorder& r) { return r.seen_count(a.self.instance) >= 4; }));
  const std::uint64_t first = b.recorder.seen().at(a.self.instance).seq;
  ASSERT_TRUE(
      b.recorder.wait([&](const DiscoveryRecorder& r) { return r.seen_count(a.self.instance) >= 6; }));
  EXPECT_GT(b.recorder.seen().at(a.self.instance).seq, first);
  EXPECT_EQ(b.recorder.gone_count(), 0u);
}

TEST(UdpDiscovery, AgentWithAnotherSecretIsIgnoredAndCounted) {
  EventLoop loop;
  const auto port = free_udp_port();
  Agent a(loop, udp_options(port), "a", 4001), b(loop, udp_options(port), "b", 4002);
  Agent intruder(loop, udp_options(port, "not the secret"), "intruder", 4666);
  intruder.start();
  a.start();
  b.start();
  ASSERT_TRUE(a.recorder.wait([&](const DiscoveryRecorder& r) { return r.has_seen(b.self.instance); }));
  // Wait until a has dropped a few of the intruder's packets, then check it reported none.
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (a.discovery->rejected() < 2 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(10ms);
  EXPECT_GE(a.discovery->rejected(), 2u);
  EXPECT_GE(b.discovery->rejected(), 2u);
  EXPECT_GE(intruder.discovery->rejected(), 2u);  // and it hears nobody either
  EXPECT_FALSE(a.recorder.seen().count(intruder.self.instance));
  EXPECT_FALSE(b.recorder.seen().count(intruder.self.instance));
  EXPECT_TRUE(intruder.recorder.seen().empty());
}

TEST(UdpDiscovery, GoodbyeReportsGoneAtOnce) {
  EventLoop loop;
  MeshOptions options = udp_options(free_udp_port());
  options.node_timeout = 60s;  // so that only the goodbye can explain a gone
  options.announce_interval = 500ms;
  Agent a(loop, options, "a", 4001), b(loop, options, "b", 4002);
  a.start();
  b.start();
  ASSERT_TRUE(a.recorder.wait([&](const DiscoveryRecorder& r) { return r.has_seen(b.self.instance); }));
  b.discovery->stop();
  ASSERT_TRUE(a.recorder.wait([&](const DiscoveryRecorder& r) { return r.has_gone(b.self.instance); }, 5s));
  EXPECT_EQ(a.recorder.gone(), std::vector<std::string>{b.self.instance});
  EXPECT_NE(b.discovery->readiness(), "");
}

TEST(UdpDiscovery, SilentInstanceIsGoneAfterNodeTimeout) {
  EventLoop loop;
  const auto port = free_udp_port();
  MeshOptions options = udp_options(port);
  options.announce_interval = 100ms;
  options.node_timeout = 600ms;
  Agent a(loop, options, "a", 4001);
  a.start();
  ASSERT_TRUE(a.wait_ready());
  // A node that announces itself once and then dies without a goodbye (kill -9).
  Announcement dead = self_of("dead", 4999);
  dead.seq = 1;
  RawAnnouncer raw(port);
  raw.send(encode_announcement(dead, kSecret));
  ASSERT_TRUE(a.recorder.wait([&](const DiscoveryRecorder& r) { return r.has_seen(dead.instance); }));
  const auto heard = a.recorder.first_seen(dead.instance);
  ASSERT_TRUE(a.recorder.wait([&](const DiscoveryRecorder& r) { return r.has_gone(dead.instance); }));
  EXPECT_GE(a.recorder.gone_at(dead.instance) - heard, options.node_timeout - 50ms);
}

TEST(UdpDiscovery, ReplayedAnnouncementsAreIgnored) {
  EventLoop loop;
  const auto port = free_udp_port();
  MeshOptions options = udp_options(port);
  options.node_timeout = 60s;
  Agent a(loop, options, "a", 4001);
  a.start();
  ASSERT_TRUE(a.wait_ready());
  Announcement peer = self_of("peer", 4999);
  RawAnnouncer raw(port);
  peer.seq = 5;
  const std::string fifth = encode_announcement(peer, kSecret);
  raw.send(fifth);
  ASSERT_TRUE(a.recorder.wait([&](const DiscoveryRecorder& r) { return r.has_seen(peer.instance); }));
  // The old goodbye of an earlier seq must not remove the live instance; a newer one does.
  Announcement stale_bye = peer;
  stale_bye.seq = 3;
  stale_bye.goodbye = true;
  raw.send(encode_announcement(stale_bye, kSecret));
  raw.send(fifth);
  peer.seq = 6;
  raw.send(encode_announcement(peer, kSecret));
  ASSERT_TRUE(a.recorder.wait([&](const DiscoveryRecorder& r) { return r.seen_count(peer.instance) == 2; }));
  EXPECT_EQ(a.recorder.seen().at(peer.instance).seq, 6u);
  EXPECT_FALSE(a.recorder.wait([&](const DiscoveryRecorder& r) { return r.has_gone(peer.instance); }, 200ms));
  Announcement bye = peer;
  bye.seq = 7;
  bye.goodbye = true;
  raw.send(encode_announcement(bye, kSecret));
  ASSERT_TRUE(a.recorder.wait([&](const DiscoveryRecorder& r) { return r.has_gone(peer.instance); }));
  // A packet of the departed instance arriving late does not bring it back.
  peer.seq = 8;
  raw.send(encode_announcement(peer, kSecret));
  EXPECT_FALSE(
      a.recorder.wait([&](const DiscoveryRecorder& r) { return r.seen_count(peer.instance) > 2; }, 200ms));
}

TEST(UdpDiscovery, RestartedNodeIsSeenAsANewInstance) {
  EventLoop loop;
  MeshOptions options = udp_options(free_udp_port());
  options.announce_interval = 100ms;
  options.node_timeout = 60s;
  Agent a(loop, options, "a", 4001);
  auto b = std::make_unique<Agent>(loop, options, "b", 4002);
  a.start();
  b->start();
  const std::string first = b->self.instance;
  ASSERT_TRUE(a.recorder.wait([&](const DiscoveryRecorder& r) { return r.has_seen(first); }));
  b.reset();  // stops: goodbye
  ASSERT_TRUE(a.recorder.wait([&](const DiscoveryRecorder& r) { return r.has_gone(first); }));
  Agent again(loop, options, "b", 4002);
  again.start();
  ASSERT_NE(again.self.instance, first);
  ASSERT_TRUE(a.recorder.wait([&](const DiscoveryRecorder& r) { return r.has_seen(again.self.instance); }));
  EXPECT_EQ(a.recorder.seen().at(again.self.instance).node, "b");
  // And the restarted node learns of a at once, not after an interval of a's.
  ASSERT_TRUE(again.recorder.wait([&](const DiscoveryRecorder& r) { return r.has_seen(a.self.instance); }));
}

TEST(UdpDiscovery, RejectsAGroupThatIsNotMulticast) {
  EventLoop loop;
  MeshOptions options = udp_options(free_udp_port());
  options.multicast_group = "10.1.2.3";
  EXPECT_THROW(make_discovery(loop.executor(), options), std::invalid_argument);
}

TEST(StaticDiscovery, ReportsEveryPeerAtStartAndAgainEveryInterval) {
  EventLoop loop;
  MeshOptions options;
  options.secret = kSecret;
  options.discovery = "static";
  options.peers = {"ws://127.0.0.1:4001", "ws://node-b.internal:4002/", "ws://127.0.0.1:4003"};
  options.announce_interval = 50ms;
  auto discovery = make_discovery(loop.executor(), options);
  EXPECT_EQ(discovery->name(), "static");
  DiscoveryRecorder recorder;
  // Its own address in the list is left out (a node would dial itself).
  discovery->start(self_of("self", 4003), recorder.events());
  ASSERT_TRUE(recorder.wait([](const DiscoveryRecorder& r) {
    return r.seen_count("127.0.0.1:4001") >= 3 && r.seen_count("node-b.internal:4002") >= 3;
  }));
  const auto seen = recorder.seen();
  EXPECT_EQ(seen.size(), 2u);
  EXPECT_TRUE(seen.at("127.0.0.1:4001").node.empty());
  EXPECT_TRUE(seen.at("127.0.0.1:4001").instance.empty());
  EXPECT_EQ(discovery->readiness(), "");
  discovery->stop();
  EXPECT_NE(discovery->readiness(), "");
  EXPECT_EQ(recorder.gone_count(), 0u);
}

TEST(StaticDiscovery, PeerUrlsMustBeWebSocketHostAndPort) {
  EXPECT_EQ(static_peer_address("ws://10.0.0.2:3030"), "10.0.0.2:3030");
  EXPECT_EQ(static_peer_address("ws://10.0.0.2:3030/_mesh"), "10.0.0.2:3030");
  EXPECT_EQ(static_peer_address("api.internal:3030"), "api.internal:3030");
  EXPECT_EQ(static_peer_address("wss://10.0.0.2:3030"), "10.0.0.2:3030");
  EXPECT_THROW(static_peer_address("http://10.0.0.2:3030"), std::invalid_argument);
  EXPECT_THROW(static_peer_address("ws://10.0.0.2"), std::invalid_argument);
  EXPECT_THROW(static_peer_address("ws://10.0.0.2:99999"), std::invalid_argument);
  EXPECT_THROW(static_peer_address("ws://10.0.0.2:30x"), std::invalid_argument);
}

TEST(Discovery, FactoryRejectsUnknownBackendsAndMissingSecret) {
  EventLoop loop;
  MeshOptions options;
  options.secret = kSecret;
  options.discovery = "mdns";
  EXPECT_THROW(make_discovery(loop.executor(), options), std::invalid_argument);
  options.discovery = "udp";
  options.secret = "";
  EXPECT_THROW(make_discovery(loop.executor(), options), std::invalid_argument);
  options.secret = kSecret;
  options.node_timeout = options.announce_interval;
  EXPECT_THROW(make_discovery(loop.executor(), options), std::invalid_argument);
}

}  // namespace
}  // namespace plume::mesh
