#include "auth/login_throttle.hpp"

#include <algorithm>

namespace plume::auth {
namespace {

using std::chrono::milliseconds;

// Keys longer than this are cut: a megabyte of username must not become a megabyte of state.
constexpr std::size_t kMaxKeyBytes = 256;

std::string key_of(std::string_view text) { return std::string(text.substr(0, kMaxKeyBytes)); }

milliseconds interval_of(const ThrottleLimit& limit) {
  const auto count = static_cast<milliseconds::rep>(std::max<std::size_t>(limit.limit, 1));
  return std::max(milliseconds(1), limit.window / count);
}

}  // namespace

LoginThrottle::LoginThrottle(LoginThrottleOptions options, Clock clock)
    : options_(options), clock_(std::move(clock)) {
  addresses_.limit = options_.per_address;
  accounts_.limit = options_.per_account;
}

milliseconds LoginThrottle::wait_of(const Keys& keys, std::string_view key, TimePoint now) const {
  if (key.empty() || keys.limit.limit == 0) return milliseconds(0);
  auto it = keys.tats.find(key_of(key));
  if (it == keys.tats.end()) return milliseconds(0);
  // One more failure must still fit: tat + interval - window <= now.
  const TimePoint allowed_at = it->second + interval_of(keys.limit) - keys.limit.window;
  if (allowed_at <= now) return milliseconds(0);
  return std::chrono::ceil<milliseconds>(allowed_at - now);
}

void LoginThrottle::fail(Keys& keys, std::string_view key, TimePoint now) {
  if (key.empty() || keys.limit.limit == 0) return;
  TimePoint& tat = keys.tats.try_emplace(key_of(key), now).first->second;
  tat = std::max(tat, now) + interval_of(keys.limit);
}

void LoginThrottle::sweep(TimePoint now) {
  // A key whose TAT has passed is as good as a fresh one; forgetting it bounds the state by
  // the failures of one window.
  for (Keys* keys : {&addresses_, &accounts_}) {
    std::erase_if(keys->tats, [now](const auto& entry) { return entry.second <= now; });
  }
}

milliseconds LoginThrottle::retry_after(std::string_view address, std::string_view account) {
  if (!options_.enabled) return milliseconds(0);
  const TimePoint now = clock_();
  std::lock_guard lock(mutex_);
  return std::max(wait_of(addresses_, address, now), wait_of(accounts_, account, now));
}

void LoginThrottle::record_failure(std::string_view address, std::string_view account) {
  if (!options_.enabled) return;
  const TimePoint now = clock_();
  std::lock_guard lock(mutex_);
  if (++failures_since_sweep_ >= 1024) {
    failures_since_sweep_ = 0;
    sweep(now);
  }
  fail(addresses_, address, now);
  fail(accounts_, account, now);
}

void LoginThrottle::record_success(std::string_view account) {
  if (!options_.enabled || account.empty()) return;
  std::lock_guard lock(mutex_);
  accounts_.tats.erase(key_of(account));
}

}  // namespace plume::auth
