#include "gateway/upstream.hpp"

#include <plume/core/error.hpp>

#include <gtest/gtest.h>

#include <map>

namespace plume::gateway {
namespace {

TEST(UpstreamTarget, ParsesHostPortAndBasePath) {
  auto a = parse_target("http://my.service.com");
  EXPECT_EQ(a.host, "my.service.com");
  EXPECT_EQ(a.port, 80);
  EXPECT_EQ(a.base_path, "");
  EXPECT_EQ(a.host_header, "my.service.com");
  auto b = parse_target("http://127.0.0.1:4000/base/");
  EXPECT_EQ(b.host, "127.0.0.1");
  EXPECT_EQ(b.port, 4000);
  EXPECT_EQ(b.base_path, "/base");
  EXPECT_EQ(b.host_header, "127.0.0.1:4000");
  auto c = parse_target("http://[::1]:8080");
  EXPECT_EQ(c.host, "::1");
  EXPECT_EQ(c.port, 8080);
  EXPECT_THROW(parse_target("https://secure.example.com"), Error);
  EXPECT_THROW(parse_target("http://host:99999"), Error);
  EXPECT_THROW(parse_target("ftp://host"), Error);
}

std::vector<std::shared_ptr<Target>> targets(int n, HealthCheckOptions health = {}) {
  std::vector<std::shared_ptr<Target>> out;
  for (int i = 0; i < n; ++i) {
    out.push_back(std::make_shared<Target>(parse_target("http://127.0.0.1:" + std::to_string(4000 + i)),
                                           health, 8, std::chrono::seconds(30)));
  }
  return out;
}

TEST(Balancer, RoundRobinVisitsEveryTargetInTurn) {
  Balancer balancer(targets(3), Balance::RoundRobin);
  std::map<int, int> seen;
  for (int i = 0; i < 30; ++i) seen[balancer.choose("", {})]++;
  EXPECT_EQ(seen[0], 10);
  EXPECT_EQ(seen[1], 10);
  EXPECT_EQ(seen[2], 10);
}

TEST(Balancer, SkipsTriedAndDownTargets) {
  HealthCheckOptions health;
  health.unhealthy = 1;
  auto pool = targets(3, health);
  Balancer balancer(pool, Balance::RoundRobin);
  pool[1]->report_failure("refused");
  for (int i = 0; i < 10; ++i) EXPECT_NE(balancer.choose("", {}), 1);
  EXPECT_EQ(balancer.choose("", {0, 2}), -1);
}

TEST(Balancer, LeastConnectionsPicksTheIdlestTarget) {
  auto pool = targets(3);
  Balancer balancer(pool, Balance::LeastConnections);
  pool[0]->active() = 5;
  pool[1]->active() = 1;
  pool[2]->active() = 3;
  EXPECT_EQ(balancer.choose("", {}), 1);
  EXPECT_EQ(balancer.choose("", {1}), 2);
}

TEST(Balancer, ConsistentHashKeepsKeysOnTheirTargetAndMovesOnlyADownTargetsKeys) {
  HealthCheckOptions health;
  health.unhealthy = 1;
  auto pool = targets(4, health);
  Balancer balancer(pool, Balance::Hash);
  std::map<std::string, int> before;
  for (int i = 0; i < 200; ++i) {
    std::string key = "client-" + std::to_string(i);
    before[key] = balancer.choose(key, {});
    EXPECT_EQ(balancer.choose(key, {}), before[key]);
  }
  pool[2]->report_failure("down");
  for (const auto& [key, target] : before) {
    int now = balancer.choose(key, {});
    EXPECT_NE(now, 2);
    if (target != 2) EXPECT_EQ(now, target) << key;
  }
}

TEST(TargetHealth, ActiveChecksTakeATargetDownAndBringItBack) {
  HealthCheckOptions health;
  health.healthy = 2;
  health.unhealthy = 2;
  auto pool = targets(1, health);
  auto& target = *pool[0];
  const auto now = std::chrono::steady_clock::now();
  target.report_probe(false, "refused");
  EXPECT_TRUE(target.available(now));
  target.report_probe(false, "refused");
  EXPECT_FALSE(target.available(now));
  target.report_probe(true, "");
  EXPECT_FALSE(target.available(now));
  target.report_probe(true, "");
  EXPECT_TRUE(target.available(std::chrono::steady_clock::now()));
}

}  // namespace
}  // namespace plume::gateway
