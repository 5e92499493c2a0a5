// LoginThrottle counts failed logins per client address and per account, each as a generic cell
// rate (the gateway's GCRA, counting failures only): a burst of `limit` failures, then one per
// window / limit. A successful login clears its account's count.
#pragma once

#include <plume/auth/authentication.hpp>

#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace plume::auth {

class LoginThrottle {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;

  explicit LoginThrottle(LoginThrottleOptions options, Clock clock = std::chrono::steady_clock::now);

  // How long `address` or `account` must wait before another attempt; zero when both may try
  // now. An empty address (an internal caller) is not limited by address.
  std::chrono::milliseconds retry_after(std::string_view address, std::string_view account);
  void record_failure(std::string_view address, std::string_view account);
  void record_success(std::string_view account);

 private:
  using TimePoint = std::chrono::steady_clock::time_point;
  struct Keys {
    ThrottleLimit limit;
    // The theoretical arrival time of the next failure: one interval past the last, never
    // before now. A key is blocked while it is more than window - interval ahead of now.
    std::unordered_map<std::string, TimePoint> tats;
  };
  std::chrono::milliseconds wait_of(const Keys& keys, std::string_view key, TimePoint now) const;
  void fail(Keys& keys, std::string_view key, TimePoint now);
  void sweep(TimePoint now);

  LoginThrottleOptions options_;
  Clock clock_;
  std::mutex mutex_;
  Keys addresses_;
  Keys accounts_;
  std::size_t failures_since_sweep_ = 0;
};

}  // namespace plume::auth
