#include "auth/login_throttle.hpp"

#include <gtest/gtest.h>

namespace plume::auth {
namespace {

using namespace std::chrono_literals;

struct ManualClock {
  std::chrono::steady_clock::time_point now{std::chrono::hours(1)};
  LoginThrottle::Clock clock() {
    return [this] { return now; };
  }
};

LoginThrottleOptions options(std::size_t per_address, std::size_t per_account) {
  LoginThrottleOptions o;
  o.per_address = {per_address, 60s};
  o.per_account = {per_account, 60s};
  return o;
}

TEST(LoginThrottle, TheFailureAfterTheLimitWaitsOneInterval) {
  ManualClock time;
  LoginThrottle throttle(options(3, 100), time.clock());
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(throttle.retry_after("10.0.0.1", "a"), 0ms) << i;
    throttle.record_failure("10.0.0.1", "a" + std::to_string(i));
  }
  // A burst of three: the next attempt waits one interval (a minute / 3).
  EXPECT_EQ(throttle.retry_after("10.0.0.1", "z"), 20s);
  EXPECT_EQ(throttle.retry_after("10.0.0.2", "z"), 0ms);
  time.now += 10s;
  EXPECT_EQ(throttle.retry_after("10.0.0.1", "z"), 10s);
  time.now += 10s;
  EXPECT_EQ(throttle.retry_after("10.0.0.1", "z"), 0ms);
  // Then one failure per interval.
  throttle.record_failure("10.0.0.1", "z");
  EXPECT_EQ(throttle.retry_after("10.0.0.1", "z"), 20s);
}

TEST(LoginThrottle, AnAccountIsLimitedWhateverTheAddressAndASuccessClearsIt) {
  ManualClock time;
  LoginThrottle throttle(options(100, 2), time.clock());
  throttle.record_failure("10.0.0.1", "a@example.com");
  throttle.record_failure("10.0.0.2", "a@example.com");
  EXPECT_GT(throttle.retry_after("10.0.0.3", "a@example.com"), 0ms);
  EXPECT_EQ(throttle.retry_after("10.0.0.3", "b@example.com"), 0ms);
  throttle.record_success("a@example.com");
  EXPECT_EQ(throttle.retry_after("10.0.0.3", "a@example.com"), 0ms);
}

TEST(LoginThrottle, DisabledOrUnknownAddressesAreNotLimited) {
  ManualClock time;
  LoginThrottleOptions off = options(1, 1);
  off.enabled = false;
  LoginThrottle disabled(off, time.clock());
  disabled.record_failure("10.0.0.1", "a");
  disabled.record_failure("10.0.0.1", "a");
  EXPECT_EQ(disabled.retry_after("10.0.0.1", "a"), 0ms);

  LoginThrottle throttle(options(1, 100), time.clock());
  throttle.record_failure("", "a");
  throttle.record_failure("", "b");
  EXPECT_EQ(throttle.retry_after("", "c"), 0ms);
}

}  // namespace
}  // namespace plume::auth
