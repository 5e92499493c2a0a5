// Rate-limit TATs in Redis, shared by every gateway node: one Lua script checks and updates all
// periods of a key atomically, with Redis's clock (TIME) so that nodes with skewed clocks agree.
#pragma once

#include "gateway/rate_limit.hpp"

#include <plume/redis/client.hpp>

#include <boost/asio/any_io_executor.hpp>

#include <memory>
#include <string>

namespace plume::gateway {

class RedisLimitStore final : public RateLimitStore {
 public:
  RedisLimitStore(boost::asio::any_io_executor executor, std::string url);
  ~RedisLimitStore() override;

  Task<LimitDecision> hit(const std::string& key, const std::vector<Period>& periods) override;
  bool connected() const;
  void close();

  // The script and its SHA-1 (EVALSHA's name for it).
  static const std::string& script();
  static const std::string& script_sha1();

 private:
  std::shared_ptr<redis::Client> client_;
};

}  // namespace plume::gateway
