#include "mesh/breaker.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace plume::mesh {
namespace {

using namespace std::chrono_literals;

BreakerOptions small_breaker() {
  return BreakerOptions{
      .enabled = true, .threshold = 0.5, .min_requests = 4, .window = 60s, .half_open_after = 10s};
}

TEST(CircuitBreaker, StaysClosedUntilMinimumRequestsWereMade) {
  CircuitBreaker breaker(small_breaker());
  const SteadyTime t0 = SteadyTime{} + 1h;
  EXPECT_FALSE(breaker.record_failure(t0));
  EXPECT_FALSE(breaker.record_failure(t0));
  EXPECT_FALSE(breaker.record_failure(t0));
  EXPECT_TRUE(breaker.allow(t0));
  EXPECT_TRUE(breaker.record_failure(t0));  // 4 of 4 failed
  EXPECT_FALSE(breaker.allow(t0 + 1s));
  EXPECT_EQ(breaker.state(t0 + 1s), CircuitBreaker::State::Open);
}

TEST(CircuitBreaker, DoesNotOpenWhileFailuresStayBelowThreshold) {
  CircuitBreaker breaker(small_breaker());
  const SteadyTime t0 = SteadyTime{} + 1h;
  for (int i = 0; i < 10; ++i) {
    breaker.record_success(t0);
    breaker.record_success(t0);
    EXPECT_FALSE(breaker.record_failure(t0));
  }
  EXPECT_TRUE(breaker.allow(t0));
}

TEST(CircuitBreaker, FailuresOfAnOldWindowAreForgotten) {
  CircuitBreaker breaker(small_breaker());
  const SteadyTime t0 = SteadyTime{} + 1h;
  for (int i = 0; i < 3; ++i) breaker.record_failure(t0);
  EXPECT_FALSE(breaker.record_failure(t0 + 61s));  // a new window: 1 call so far
  EXPECT_TRUE(breaker.allow(t0 + 61s));
}

TEST(CircuitBreaker, HalfOpensAfterDelayLettingOneTrialThrough) {
  CircuitBreaker breaker(small_breaker());
  const SteadyTime t0 = SteadyTime{} + 1h;
  for (int i = 0; i < 4; ++i) breaker.record_failure(t0);
  EXPECT_FALSE(breaker.allow(t0 + 9s));
  EXPECT_TRUE(breaker.allow(t0 + 10s));   // the trial
  EXPECT_FALSE(breaker.allow(t0 + 10s));  // nobody else while it runs
  breaker.record_success(t0 + 11s);
  EXPECT_EQ(breaker.state(t0 + 11s), CircuitBreaker::State::Closed);
  EXPECT_TRUE(breaker.allow(t0 + 11s));
}

TEST(CircuitBreaker, FailedTrialOpensAgain) {
  CircuitBreaker breaker(small_breaker());
  const SteadyTime t0 = SteadyTime{} + 1h;
  for (int i = 0; i < 4; ++i) breaker.record_failure(t0);
  ASSERT_TRUE(breaker.allow(t0 + 10s));
  EXPECT_TRUE(breaker.record_failure(t0 + 10s));
  EXPECT_FALSE(breaker.allow(t0 + 15s));
  EXPECT_TRUE(breaker.allow(t0 + 20s));
}

TEST(CircuitBreaker, ReleasedTrialLetsAnotherCallTry) {
  CircuitBreaker breaker(small_breaker());
  const SteadyTime t0 = SteadyTime{} + 1h;
  for (int i = 0; i < 4; ++i) breaker.record_failure(t0);
  ASSERT_TRUE(breaker.allow(t0 + 10s));
  breaker.release(t0 + 10s);
  EXPECT_TRUE(breaker.allow(t0 + 10s));
}

TEST(CircuitBreaker, DisabledNeverOpens) {
  BreakerOptions options = small_breaker();
  options.enabled = false;
  CircuitBreaker breaker(options);
  const SteadyTime t0 = SteadyTime{} + 1h;
  for (int i = 0; i < 100; ++i) EXPECT_FALSE(breaker.record_failure(t0));
  EXPECT_TRUE(breaker.allow(t0));
}

TEST(ChooseCandidate, RoundRobinVisitsEveryCandidateInTurn) {
  std::uint64_t counter = 0;
  const std::vector<std::size_t> pending = {5, 0, 9};
  std::vector<std::size_t> picks;
  for (int i = 0; i < 6; ++i) picks.push_back(*choose_candidate(Balance::RoundRobin, pending, counter));
  EXPECT_EQ(picks, (std::vector<std::size_t>{0, 1, 2, 0, 1, 2}));
}

TEST(ChooseCandidate, LeastPendingPicksTheLeastBusy) {
  std::uint64_t counter = 0;
  const std::vector<std::size_t> pending = {5, 1, 9};
  for (int i = 0; i < 3; ++i) EXPECT_EQ(*choose_candidate(Balance::LeastPending, pending, counter), 1u);
}

TEST(ChooseCandidate, LeastPendingSharesTiesAmongEqualNodes) {
  std::uint64_t counter = 0;
  const std::vector<std::size_t> pending = {2, 2};
  EXPECT_EQ(*choose_candidate(Balance::LeastPending, pending, counter), 0u);
  EXPECT_EQ(*choose_candidate(Balance::LeastPending, pending, counter), 1u);
}

TEST(ChooseCandidate, NoCandidateGivesNothing) {
  std::uint64_t counter = 0;
  EXPECT_FALSE(choose_candidate(Balance::RoundRobin, {}, counter).has_value());
}

}  // namespace
}  // namespace plume::mesh
