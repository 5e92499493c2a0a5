#include "gateway/redis_limit_store.hpp"

#include <plume/core/error.hpp>

#include <openssl/evp.h>

#include <array>

namespace plume::gateway {

namespace {

// KEYS: one per period. ARGV: period_us and limit for each key. Returns {allowed, retry_after_us,
// remaining_1, reset_us_1, ...}. The same steps as gcra_step/gcra_decide: nothing is counted
// unless every period allows the request. Lua numbers are doubles: microsecond times (~2^51)
// are exact.
constexpr const char* kScript = R"lua(
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local n = #KEYS
local allowed = 1
local retry = 0
local tats = {}
for i = 1, n do
  local period = tonumber(ARGV[2 * i - 1])
  local limit = tonumber(ARGV[2 * i])
  local interval = math.max(1, math.floor(period / limit))
  local tat = tonumber(redis.call('GET', KEYS[i]) or '0')
  tats[i] = tat
  local base = math.max(tat, now)
  local allow_at = base + interval - period
  if now < allow_at then
    allowed = 0
    if allow_at - now > retry then retry = allow_at - now end
  end
end
local out = {allowed, retry}
for i = 1, n do
  local period = tonumber(ARGV[2 * i - 1])
  local limit = tonumber(ARGV[2 * i])
  local interval = math.max(1, math.floor(period / limit))
  local base = math.max(tats[i], now)
  if allowed == 1 then
    local new_tat = base + interval
    redis.call('SET', KEYS[i], string.format('%d', new_tat), 'PX', math.ceil((new_tat - now) / 1000) + 1)
    out[#out + 1] = math.max(0, math.floor((period - (new_tat - now)) / interval))
    out[#out + 1] = new_tat - now
  else
    local ahead = base - now
    if now < base + interval - period then
      out[#out + 1] = 0
    else
      out[#out + 1] = math.max(0, math.floor((period - ahead) / interval))
    end
    out[#out + 1] = ahead
  end
end
return out
)lua";

std::string sha1_hex(std::string_view text) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int size = 0;
  EVP_Digest(text.data(), text.size(), digest.data(), &size, EVP_sha1(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned i = 0; i < size; ++i) {
    hex += kHex[digest[i] >> 4];
    hex += kHex[digest[i] & 15];
  }
  return hex;
}

}  // namespace

const std::string& RedisLimitStore::script() {
  static const std::string text = kScript;
  return text;
}

const std::string& RedisLimitStore::script_sha1() {
  static const std::string sha = sha1_hex(kScript);
  return sha;
}

RedisLimitStore::RedisLimitStore(boost::asio::any_io_executor executor, std::string url) {
  redis::RedisOptions options;
  options.url = std::move(url);
  options.client_name = "plume-gateway-ratelimit";
  // A request waits for its limit check: a slow Redis should fail fast (and faultTolerant
  // decide) rather than hold every request for seconds.
  options.connect_timeout = std::chrono::milliseconds(500);
  options.command_timeout = std::chrono::milliseconds(1000);
  client_ = redis::Client::create(std::move(executor), std::move(options));
}

RedisLimitStore::~RedisLimitStore() { close(); }

bool RedisLimitStore::connected() const { return client_->connected(); }

void RedisLimitStore::close() { client_->close(); }

Task<LimitDecision> RedisLimitStore::hit(const std::string& key, const std::vector<Period>& periods) {
  std::vector<std::string> args{"EVALSHA", script_sha1(), std::to_string(periods.size())};
  for (const auto& period : periods) args.push_back(key + ":" + period.name);
  for (const auto& period : periods) {
    args.push_back(std::to_string(period.period_us));
    args.push_back(std::to_string(period.limit));
  }
  redis::Reply reply;
  try {
    auto op = client_->command(args);
    reply = co_await std::move(op);
  } catch (const redis::ReplyError& error) {
    // The script cache is empty after a restart or on a new server: send the script itself.
    if (std::string_view(error.what()).find("NOSCRIPT") == std::string_view::npos) throw;
    args[0] = "EVAL";
    args[1] = script();
  }
  if (args[0] == "EVAL") {
    auto op = client_->command(args);
    reply = co_await std::move(op);
  }
  if (reply.type != redis::Reply::Type::Array || reply.elements.size() != 2 + 2 * periods.size()) {
    throw unavailable("Unexpected reply from the rate-limit script in Redis");
  }
  LimitDecision decision;
  decision.allowed = reply.elements[0].integer == 1;
  decision.retry_after_us = reply.elements[1].integer;
  for (std::size_t i = 0; i < periods.size(); ++i) {
    decision.periods.push_back(
        {periods[i].limit, reply.elements[2 + 2 * i].integer, reply.elements[3 + 2 * i].integer});
  }
  co_return decision;
}

}  // namespace plume::gateway
