// Rate limits as a generic cell rate algorithm (GCRA) per period: each key keeps a theoretical
// arrival time (TAT); a request is allowed when, after adding one emission interval
// (period / limit), the TAT is at most one period ahead of now. This allows `limit` requests in
// any window of the period's length (a burst of `limit` at once included) with one number per
// key, and avoids the double burst that calendar-aligned fixed windows allow at their boundary.
// Several periods (second, minute, hour) are checked together: a request counts against all of
// them or none.
#pragma once

#include <plume/core/task.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace plume::gateway {

struct Period {
  std::string name;            // "second", "minute", "hour"
  std::int64_t period_us = 0;  // the period's length in microseconds
  std::int64_t limit = 0;
};

struct PeriodState {
  std::int64_t limit = 0;
  std::int64_t remaining = 0;
  std::int64_t reset_us = 0;  // until the full quota is back
};

struct LimitDecision {
  bool allowed = true;
  std::int64_t retry_after_us = 0;   // when rejected: until a request would be allowed
  std::vector<PeriodState> periods;  // in the order of the limits given
};

// One GCRA step for one period: the new TAT (unchanged when rejected) and the period's state.
struct GcraStep {
  bool allowed = true;
  std::int64_t new_tat = 0;
  std::int64_t retry_after_us = 0;
  PeriodState state;
};
GcraStep gcra_step(std::int64_t tat, std::int64_t now_us, const Period& period);

// Applies a request to `tats` (one per period, 0 when unknown) and returns the decision; `tats`
// is updated only when the request is allowed.
LimitDecision gcra_decide(std::vector<std::int64_t>& tats, std::int64_t now_us,
                          const std::vector<Period>& periods);

// A store keeps TATs per key: in process or in Redis.
class RateLimitStore {
 public:
  virtual ~RateLimitStore() = default;
  // Throws plume::Error Unavailable when the store cannot be reached.
  virtual Task<LimitDecision> hit(const std::string& key, const std::vector<Period>& periods) = 0;
};

// In-process TATs behind sharded mutexes; entries whose TAT has passed are swept now and then.
class LocalLimitStore final : public RateLimitStore {
 public:
  Task<LimitDecision> hit(const std::string& key, const std::vector<Period>& periods) override;
  LimitDecision hit_now(const std::string& key, const std::vector<Period>& periods, std::int64_t now_us);

 private:
  struct Shard {
    std::mutex mutex;
    std::unordered_map<std::string, std::vector<std::int64_t>> tats;
    std::size_t hits_since_sweep = 0;
  };
  static constexpr std::size_t kShards = 16;
  std::array<Shard, kShards> shards_;
};

// The response headers for a decision: the most constrained period as RateLimit-Limit,
// -Remaining and -Reset (seconds, rounded up), X-RateLimit-Limit-<Period> and
// X-RateLimit-Remaining-<Period> for each, and Retry-After when rejected.
std::vector<std::pair<std::string, std::string>> rate_limit_headers(const LimitDecision& decision,
                                                                    const std::vector<Period>& periods);

std::int64_t unix_now_us();

}  // namespace plume::gateway
