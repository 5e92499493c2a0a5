#include "gateway/rate_limit.hpp"

#include <algorithm>
#include <functional>

namespace plume::gateway {

std::int64_t unix_now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

GcraStep gcra_step(std::int64_t tat, std::int64_t now_us, const Period& period) {
  const std::int64_t interval = std::max<std::int64_t>(1, period.period_us / period.limit);
  GcraStep step;
  step.state.limit = period.limit;
  const std::int64_t base = std::max(tat, now_us);
  const std::int64_t new_tat = base + interval;
  const std::int64_t allow_at = new_tat - period.period_us;
  if (now_us < allow_at) {
    step.allowed = false;
    step.new_tat = tat;
    step.retry_after_us = allow_at - now_us;
    step.state.remaining = 0;
    step.state.reset_us = base - now_us;
    return step;
  }
  step.new_tat = new_tat;
  step.state.remaining = std::max<std::int64_t>(0, (period.period_us - (new_tat - now_us)) / interval);
  step.state.reset_us = new_tat - now_us;
  return step;
}

LimitDecision gcra_decide(std::vector<std::int64_t>& tats, std::int64_t now_us,
                          const std::vector<Period>& periods) {
  tats.resize(periods.size(), 0);
  LimitDecision decision;
  std::vector<GcraStep> steps;
  steps.reserve(periods.size());
  for (std::size_t i = 0; i < periods.size(); ++i) {
    steps.push_back(gcra_step(tats[i], now_us, periods[i]));
    if (!steps.back().allowed) {
      decision.allowed = false;
      decision.retry_after_us = std::max(decision.retry_after_us, steps.back().retry_after_us);
    }
  }
  for (std::size_t i = 0; i < periods.size(); ++i) {
    if (decision.allowed) {
      tats[i] = steps[i].new_tat;
      decision.periods.push_back(steps[i].state);
    } else {
      // Nothing is counted: report each period as it stands.
      const std::int64_t interval = std::max<std::int64_t>(1, periods[i].period_us / periods[i].limit);
      const std::int64_t ahead = std::max<std::int64_t>(0, tats[i] - now_us);
      PeriodState state{
          periods[i].limit,
          steps[i].allowed ? std::max<std::int64_t>(0, (periods[i].period_us - ahead) / interval) : 0, ahead};
      decision.periods.push_back(state);
    }
  }
  return decision;
}

LimitDecision LocalLimitStore::hit_now(const std::string& key, const std::vector<Period>& periods,
                                       std::int64_t now_us) {
  Shard& shard = shards_[std::hash<std::string>{}(key) % kShards];
  std::lock_guard lock(shard.mutex);
  // Forget keys whose every TAT has passed: their state equals a fresh key's.
  if (++shard.hits_since_sweep >= 4096 || shard.tats.size() > 65536) {
    shard.hits_since_sweep = 0;
    std::erase_if(shard.tats, [now_us](const auto& entry) {
      return std::all_of(entry.second.begin(), entry.second.end(),
                         [now_us](std::int64_t tat) { return tat <= now_us; });
    });
  }
  return gcra_decide(shard.tats[key], now_us, periods);
}

Task<LimitDecision> LocalLimitStore::hit(const std::string& key, const std::vector<Period>& periods) {
  co_return hit_now(key, periods, unix_now_us());
}

namespace {
std::string seconds_up(std::int64_t us) { return std::to_string((us + 999'999) / 1'000'000); }
}  // namespace

std::vector<std::pair<std::string, std::string>> rate_limit_headers(const LimitDecision& decision,
                                                                    const std::vector<Period>& periods) {
  std::vector<std::pair<std::string, std::string>> headers;
  if (decision.periods.empty()) return headers;
  std::size_t tightest = 0;
  for (std::size_t i = 1; i < decision.periods.size(); ++i) {
    if (decision.periods[i].remaining < decision.periods[tightest].remaining) tightest = i;
  }
  const PeriodState& state = decision.periods[tightest];
  headers.emplace_back("RateLimit-Limit", std::to_string(state.limit));
  headers.emplace_back("RateLimit-Remaining", std::to_string(decision.allowed ? state.remaining : 0));
  headers.emplace_back("RateLimit-Reset",
                       seconds_up(decision.allowed ? state.reset_us : decision.retry_after_us));
  for (std::size_t i = 0; i < periods.size() && i < decision.periods.size(); ++i) {
    std::string name = periods[i].name;
    if (!name.empty()) name[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(name[0])));
    headers.emplace_back("X-RateLimit-Limit-" + name, std::to_string(decision.periods[i].limit));
    headers.emplace_back("X-RateLimit-Remaining-" + name, std::to_string(decision.periods[i].remaining));
  }
  if (!decision.allowed) headers.emplace_back("Retry-After", seconds_up(decision.retry_after_us));
  return headers;
}

}  // namespace plume::gateway
