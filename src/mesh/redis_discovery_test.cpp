#include "mesh/redis_discovery.hpp"

#include "mesh/discovery_test_support.hpp"
#include "testing/redis_server.hpp"

#include <gtest/gtest.h>

namespace plume::mesh {
namespace {

using namespace std::chrono_literals;
using testing::DiscoveryRecorder;
using testing::EventLoop;

constexpr const char* kSecret = "s3cret";

MeshOptions redis_options(const plume::testing::RedisServer& redis, std::string secret = kSecret) {
  MeshOptions options;
  options.secret = std::move(secret);
  options.discovery = redis.url();
  options.announce_interval = 100ms;
  options.node_timeout = 1'000ms;
  return options;
}

struct Agent {
  Announcement self;
  DiscoveryRecorder recorder;
  std::unique_ptr<Discovery> discovery;

  Agent(EventLoop& loop, const MeshOptions& options, const std::string& node)
      : discovery(make_discovery(loop.executor(), options)) {
    self.node = node;
    self.instance = random_hex();
    self.address = "10.0.0.1:" + std::to_string(4000 + node.size());
  }
  void start() { discovery->start(self, recorder.events()); }
};

bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout = 15s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

const RedisDiscoveryKeys kKeys = redis_discovery_keys("default");

TEST(RedisDiscovery, AgentsFindEachOtherAndKeepTheirKeysAlive) {
  plume::testing::RedisServer redis;
  EventLoop loop;
  const auto options = redis_options(redis);
  Agent a(loop, options, "a"), b(loop, options, "b");
  a.start();
  b.start();
  ASSERT_TRUE(a.recorder.wait([&](const DiscoveryRecorder& r) { return r.has_seen(b.self.instance); }));
  ASSERT_TRUE(b.recorder.wait([&](const DiscoveryRecorder& r) { return r.has_seen(a.self.instance); }));
  EXPECT_EQ(a.recorder.seen().at(b.self.instance).address, b.self.address);
  EXPECT_EQ(a.discovery->name(), "redis");
  ASSERT_TRUE(eventually([&] { return a.discovery->readiness().empty(); }));

  // The heartbeat key holds the signed announcement and expires by itself.
  const std::string stored = redis.redis_cli_line({"GET", kKeys.node(a.self.instance)});
  const auto decoded = decode_announcement(stored, kSecret);
  ASSERT_TRUE(decoded.has_value()) << stored;
  EXPECT_EQ(decoded->instance, a.self.instance);
  const long ttl = std::stol(redis.redis_cli_line({"PTTL", kKeys.node(a.self.instance)}));
  EXPECT_GT(ttl, 0);
  EXPECT_LE(ttl, 1'000);
  EXPECT_NE(redis.redis_cli_line({"ZSCORE", kKeys.instances, b.self.instance}), "");
  // Refreshes keep coming while they run.
  ASSERT_TRUE(
      a.recorder.wait([&](const DiscoveryRecorder& r) { return r.seen_count(b.self.instance) >= 5; }));
  EXPECT_EQ(a.recorder.gone_count(), 0u);
}

TEST(RedisDiscovery, ANewcomerReadsTheSnapshotInsteadOfWaitingForHeartbeats) {
  plume::testing::RedisServer redis;
  EventLoop loop;
  MeshOptions slow = redis_options(redis);
  slow.announce_interval = 20s;  // after its first two, a's next heartbeat is far away
  slow.node_timeout = 60s;
  Agent a(loop, slow, "a");
  a.start();
  // Its second (quick) heartbeat is in Redis.
  ASSERT_TRUE(eventually([&] {
    const auto stored =
        decode_announcement(redis.redis_cli_line({"GET", kKeys.node(a.self.instance)}), kSecret);
    return stored && stored->seq == 2;
  }));
  Agent b(loop, slow, "b");
  b.start();
  ASSERT_TRUE(b.recorder.wait([&](const DiscoveryRecorder& r) { return r.has_seen(a.self.instance); }));
  EXPECT_EQ(b.recorder.seen().at(a.self.instance).seq, 2u)
      << "seen through the snapshot, not a later heartbeat";
}

TEST(RedisDiscovery, AgentWithAnotherSecretIsIgnoredAndCounted) {
  plume::testing::RedisServer redis;
  EventLoop loop;
  Agent a(loop, redis_options(redis), "a"), b(loop, redis_options(redis), "b");
  Agent intruder(loop, redis_options(redis, "not the secret"), "intruder");
  intruder.start();
  a.start();
  b.start();
  ASSERT_TRUE(a.recorder.wait([&](const DiscoveryRecorder& r) { return r.has_seen(b.self.instance); }));
  ASSERT_TRUE(eventually([&] { return a.discovery->rejected() >= 2 && b.discovery->rejected() >= 2; }));
  EXPECT_FALSE(a.recorder.seen().count(intruder.self.instance));
  EXPECT_FALSE(b.recorder.seen().count(intruder.self.instance));
  EXPECT_TRUE(intruder.recorder.seen().empty());
  EXPECT_GE(intruder.discovery->rejected(), 2u);
}

TEST(RedisDiscovery, GoodbyeReportsGoneAtOnceAndClearsTheKeys) {
  plume::testing::RedisServer redis;
  EventLoop loop;
  MeshOptions options = redis_options(redis);
  options.node_timeout = 60s;  // only the goodbye can explain a gone
  Agent a(loop, options, "a"), b(loop, options, "b");
  a.start();
  b.start();
  ASSERT_TRUE(a.recorder.wait([&](const DiscoveryRecorder& r) { return r.has_seen(b.self.instance); }));
  b.discovery->stop();
  ASSERT_TRUE(a.recorder.wait([&](const DiscoveryRecorder& r) { return r.has_gone(b.self.instance); }, 5s));
  EXPECT_EQ(redis.redis_cli_line({"EXISTS", kKeys.node(b.self.instance)}), "0");
  EXPECT_EQ(redis.redis_cli_line({"ZSCORE", kKeys.instances, b.self.instance}), "");
  EXPECT_NE(b.discovery->readiness(), "");
}

TEST(RedisDiscovery, SilentInstanceIsGoneAfterNodeTimeout) {
  plume::testing::RedisServer redis;
  EventLoop loop;
  const auto options = redis_options(redis);
  Agent a(loop, options, "a");
  a.start();
  ASSERT_TRUE(eventually([&] { return a.discovery->readiness().empty(); }));
  ASSERT_TRUE(eventually([&] {
    return redis.redis_cli_line({"EXISTS", kKeys.node(a.self.instance)}) == "1";
  }));
  // A node that announced itself once and died without a goodbye.
  Announcement dead;
  dead.node = "dead";
  dead.instance = random_hex();
  dead.address = "10.0.0.9:4000";
  dead.seq = 1;
  const std::string packet = encode_announcement(dead, kSecret);
  redis.redis_cli({"SET", kKeys.node(dead.instance), packet, "PX", "1000"});
  redis.redis_cli({"PUBLISH", kKeys.channel, packet});
  ASSERT_TRUE(a.recorder.wait([&](const DiscoveryRecorder& r) { return r.has_seen(dead.instance); }));
  const auto heard = a.recorder.first_seen(dead.instance);
  ASSERT_TRUE(a.recorder.wait([&](const DiscoveryRecorder& r) { return r.has_gone(dead.instance); }));
  EXPECT_GE(a.recorder.gone_at(dead.instance) - heard, options.node_timeout - 50ms);
}

TEST(RedisDiscovery, RestartedNodeIsSeenAsANewInstance) {
  plume::testing::RedisServer redis;
  EventLoop loop;
  const auto options = redis_options(redis);
  Agent a(loop, options, "a");
  auto b = std::make_unique<Agent>(loop, options, "b");
  a.start();
  b->start();
  const std::string first = b->self.instance;
  ASSERT_TRUE(a.recorder.wait([&](const DiscoveryRecorder& r) { return r.has_seen(first); }));
  b.reset();
  ASSERT_TRUE(a.recorder.wait([&](const DiscoveryRecorder& r) { return r.has_gone(first); }));
  Agent again(loop, options, "b");
  again.start();
  ASSERT_TRUE(a.recorder.wait([&](const DiscoveryRecorder& r) { return r.has_seen(again.self.instance); }));
  ASSERT_TRUE(again.recorder.wait([&](const DiscoveryRecorder& r) { return r.has_seen(a.self.instance); }));
  EXPECT_FALSE(again.recorder.seen().count(first));
}

TEST(RedisDiscovery, SurvivesARedisRestartWithoutFalseDepartures) {
  plume::testing::RedisServer redis;  // no persistence: the restart loses every key
  EventLoop loop;
  const auto options = redis_options(redis);
  Agent a(loop, options, "a"), b(loop, options, "b");
  a.start();
  b.start();
  ASSERT_TRUE(a.recorder.wait([&](const DiscoveryRecorder& r) { return r.has_seen(b.self.instance); }));
  ASSERT_TRUE(b.recorder.wait([&](const DiscoveryRecorder& r) { return r.has_seen(a.self.instance); }));

  redis.stop();
  ASSERT_TRUE(eventually([&] { return !a.discovery->readiness().empty(); }));
  EXPECT_NE(a.discovery->readiness().find("unreachable"), std::string::npos) << a.discovery->readiness();
  // Down for longer than node_timeout: nobody may be declared gone for Redis's silence.
  std::this_thread::sleep_for(options.node_timeout + 500ms);
  redis.start();

  ASSERT_TRUE(
      eventually([&] { return a.discovery->readiness().empty() && b.discovery->readiness().empty(); }));
  ASSERT_TRUE(eventually([&] {
    return redis.redis_cli_line({"EXISTS", kKeys.node(a.self.instance), kKeys.node(b.self.instance)}) == "2";
  }));
  // A node started after the restart finds both, and both find it.
  Agent c(loop, options, "c");
  c.start();
  ASSERT_TRUE(c.recorder.wait([&](const DiscoveryRecorder& r) {
    return r.has_seen(a.self.instance) && r.has_seen(b.self.instance);
  }));
  ASSERT_TRUE(a.recorder.wait([&](const DiscoveryRecorder& r) { return r.has_seen(c.self.instance); }));
  ASSERT_TRUE(b.recorder.wait([&](const DiscoveryRecorder& r) { return r.has_seen(c.self.instance); }));
  // Heartbeats flow again: both keep hearing each other past a node_timeout, with no gone.
  const int before = [&] {
    int count = 0;
    a.recorder.wait([&](const DiscoveryRecorder& r) {
      count = r.seen_count(b.self.instance);
      return true;
    });
    return count;
  }();
  ASSERT_TRUE(a.recorder.wait(
      [&](const DiscoveryRecorder& r) { return r.seen_count(b.self.instance) >= before + 10; }));
  EXPECT_TRUE(a.recorder.gone().empty());
  EXPECT_TRUE(b.recorder.gone().empty());
}

TEST(RedisDiscovery, ClusterNameSeparatesMeshesOnOneRedis) {
  plume::testing::RedisServer redis;
  EventLoop loop;
  MeshOptions blue = redis_options(redis);
  blue.discovery = redis.url() + "?cluster=blue";
  MeshOptions green = redis_options(redis);
  green.discovery = redis.url() + "?cluster=green";
  Agent a(loop, blue, "a"), b(loop, blue, "b"), c(loop, green, "c");
  a.start();
  b.start();
  c.start();
  ASSERT_TRUE(
      a.recorder.wait([&](const DiscoveryRecorder& r) { return r.seen_count(b.self.instance) >= 5; }));
  EXPECT_FALSE(a.recorder.seen().count(c.self.instance));
  EXPECT_TRUE(c.recorder.seen().empty());
  EXPECT_EQ(a.discovery->rejected(), 0u);
  EXPECT_EQ(redis.redis_cli_line({"EXISTS", redis_discovery_keys("green").node(c.self.instance)}), "1");
  MeshOptions bad = redis_options(redis);
  bad.discovery = redis.url() + "?color=blue";
  EXPECT_THROW(make_discovery(loop.executor(), bad), std::invalid_argument);
}

}  // namespace
}  // namespace plume::mesh
