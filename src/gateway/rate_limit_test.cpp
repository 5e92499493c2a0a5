#include "gateway/rate_limit.hpp"

#include <gtest/gtest.h>

namespace plume::gateway {
namespace {

constexpr std::int64_t kSecond = 1'000'000;
const Period kFivePerSecond{"second", kSecond, 5};

TEST(Gcra, AllowsTheLimitAsABurstThenRejectsWithRetryAfter) {
  std::vector<std::int64_t> tats;
  const std::int64_t now = 1'000 * kSecond;
  for (int i = 0; i < 5; ++i) {
    auto decision = gcra_decide(tats, now, {kFivePerSecond});
    ASSERT_TRUE(decision.allowed) << i;
    EXPECT_EQ(decision.periods[0].remaining, 4 - i);
  }
  auto rejected = gcra_decide(tats, now, {kFivePerSecond});
  EXPECT_FALSE(rejected.allowed);
  EXPECT_EQ(rejected.periods[0].remaining, 0);
  // One emission interval (200 ms) frees one request.
  EXPECT_EQ(rejected.retry_after_us, kSecond / 5);
  EXPECT_TRUE(gcra_decide(tats, now + kSecond / 5, {kFivePerSecond}).allowed);
  EXPECT_FALSE(gcra_decide(tats, now + kSecond / 5, {kFivePerSecond}).allowed);
}

TEST(Gcra, NoWindowBoundaryLetsTwiceTheLimitThrough) {
  // Fixed windows allow 5 at 0.99 s and 5 more at 1.01 s; GCRA allows 5 in any 1 s window.
  std::vector<std::int64_t> tats;
  const std::int64_t start = 1'000 * kSecond + 990'000;
  int allowed = 0;
  for (int i = 0; i < 5; ++i) allowed += gcra_decide(tats, start, {kFivePerSecond}).allowed;
  for (int i = 0; i < 5; ++i) allowed += gcra_decide(tats, start + 20'000, {kFivePerSecond}).allowed;
  EXPECT_EQ(allowed, 5);
}

TEST(Gcra, ARejectedRequestCountsAgainstNoPeriod) {
  const Period two_per_second{"second", kSecond, 2};
  const Period three_per_minute{"minute", 60 * kSecond, 3};
  std::vector<std::int64_t> tats;
  std::int64_t now = 5'000 * kSecond;
  EXPECT_TRUE(gcra_decide(tats, now, {two_per_second, three_per_minute}).allowed);
  EXPECT_TRUE(gcra_decide(tats, now, {two_per_second, three_per_minute}).allowed);
  auto over_second = gcra_decide(tats, now, {two_per_second, three_per_minute});
  EXPECT_FALSE(over_second.allowed);
  // The minute still has one left: the rejection by the second did not use it.
  EXPECT_EQ(over_second.periods[1].remaining, 1);
  now += kSecond;
  EXPECT_TRUE(gcra_decide(tats, now, {two_per_second, three_per_minute}).allowed);
  auto over_minute = gcra_decide(tats, now + kSecond, {two_per_second, three_per_minute});
  EXPECT_FALSE(over_minute.allowed);
  // The minute's TAT is 60 s ahead after three requests 20 s apart in cells: 18 s to wait.
  EXPECT_EQ(over_minute.retry_after_us, 18 * kSecond);
}

TEST(Gcra, HeadersReportTheTightestPeriodAndRetryAfter) {
  std::vector<std::int64_t> tats;
  const Period ten_per_minute{"minute", 60 * kSecond, 10};
  const std::vector<Period> periods{kFivePerSecond, ten_per_minute};
  const std::int64_t now = 9'000 * kSecond;
  auto decision = gcra_decide(tats, now, periods);
  auto headers = rate_limit_headers(decision, periods);
  auto value = [&](std::string_view name) {
    for (auto& [n, v] : headers) {
      if (n == name) return v;
    }
    return std::string("<none>");
  };
  EXPECT_EQ(value("RateLimit-Limit"), "5");
  EXPECT_EQ(value("RateLimit-Remaining"), "4");
  EXPECT_EQ(value("X-RateLimit-Remaining-Minute"), "9");
  EXPECT_EQ(value("Retry-After"), "<none>");
  for (int i = 0; i < 4; ++i) gcra_decide(tats, now, periods);
  auto rejected = gcra_decide(tats, now, periods);
  headers = rate_limit_headers(rejected, periods);
  EXPECT_EQ(value("RateLimit-Remaining"), "0");
  EXPECT_EQ(value("Retry-After"), "1");
}

TEST(LocalLimitStore, KeysAreCountedSeparately) {
  LocalLimitStore store;
  const Period one{"second", kSecond, 1};
  const std::int64_t now = 77 * kSecond;
  EXPECT_TRUE(store.hit_now("a", {one}, now).allowed);
  EXPECT_FALSE(store.hit_now("a", {one}, now).allowed);
  EXPECT_TRUE(store.hit_now("b", {one}, now).allowed);
  EXPECT_TRUE(store.hit_now("a", {one}, now + kSecond).allowed);
}

}  // namespace
}  // namespace plume::gateway
