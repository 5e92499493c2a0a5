#include "queue/scripts.hpp"

#include <boost/uuid/detail/sha1.hpp>

#include <cstdio>
#include <utility>

namespace plume::queue::detail {

namespace {

std::string sha1_hex(const std::string& text) {
  boost::uuids::detail::sha1 hash;
  hash.process_bytes(text.data(), text.size());
  unsigned int digest[5];
  hash.get_digest(digest);
  char hex[41];
  for (int i = 0; i < 5; ++i) std::snprintf(hex + i * 8, 9, "%08x", digest[i]);
  return std::string(hex, 40);
}

// Ids that are numbers become keys and JSON without Lua's 14-digit number formatting.
constexpr const char* kIdHelpers = R"lua(
local function id_text(id)
  if type(id) == 'number' and id == math.floor(id) and math.abs(id) < 9007199254740992 then
    return string.format('%.0f', id)
  end
  return tostring(id)
end
local function id_json(id)
  if type(id) == 'number' then return id_text(id) end
  return cjson.encode(id)
end
)lua";

// Take up to ARGV[1] jobs from N.queue into the worker's processing list, in one step.
// KEYS: queue, processing, dead, done, heartbeat, workers
// ARGV: max jobs, "1" when ARGV[3] is a job BLMOVE already moved into the processing list,
//       that job, id prefix, now (ISO-8601), status ttl (s), done length, worker id,
//       worker timeout (ms), job key prefix
// Returns the jobs as stored in the processing list: envelopes with an id and queuedAt (added
// to the text when missing, the producer's bytes otherwise kept). Jobs that are not JSON, or
// whose id is neither a string nor a number, go to N.dead with a failed outcome in N.done.
const std::string kTake = std::string(kIdHelpers) + R"lua(
local now = ARGV[5]
local taken = {}
local poisoned = 0
redis.call('SET', KEYS[5], '1', 'PX', ARGV[9])
redis.call('SADD', KEYS[6], ARGV[8])

local function poison(raw, message)
  local err = '{"name":"BadRequest","message":' .. cjson.encode(message) ..
              ',"code":400,"className":"bad-request"}'
  local times = '"attempts":1,"queuedAt":"' .. now .. '"'
  redis.call('LPUSH', KEYS[3], '{"id":null,"status":"dead","error":' .. err .. ',' .. times ..
             ',"failedAt":"' .. now .. '","job":' .. cjson.encode(raw) .. '}')
  redis.call('LPUSH', KEYS[4], '{"id":null,"status":"failed","error":' .. err .. ',' .. times ..
             ',"startedAt":"' .. now .. '","finishedAt":"' .. now .. '"}')
  poisoned = poisoned + 1
end

local function admit(raw, n)
  local ok, job = pcall(cjson.decode, raw)
  if not ok then
    poison(raw, 'the job is not valid JSON (' .. tostring(job) .. ')')
    return
  end
  local text = raw
  local id
  local queued_at = now
  local attempts = 0
  if type(job) == 'table' and job.data ~= nil then
    id = job.id
    if id ~= nil and type(id) ~= 'string' and type(id) ~= 'number' then
      poison(raw, 'the job id must be a string or a number')
      return
    end
    local added = ''
    if id == nil then
      id = ARGV[4] .. '-' .. n
      added = '"id":"' .. id .. '",'
    end
    if job.queuedAt == nil then
      added = added .. '"queuedAt":"' .. now .. '",'
    elseif type(job.queuedAt) == 'string' then
      queued_at = job.queuedAt
    end
    if type(job.attempts) == 'number' then attempts = job.attempts end
    if added ~= '' then
      local brace = string.find(raw, '{', 1, true)
      text = string.sub(raw, 1, brace) .. added .. string.sub(raw, brace + 1)
    end
  else
    id = ARGV[4] .. '-' .. n
    text = '{"id":"' .. id .. '","queuedAt":"' .. now .. '","data":' .. raw .. '}'
  end
  local record = '{"id":' .. id_json(id) .. ',"status":"active","attempts":' .. (attempts + 1) ..
                 ',"queuedAt":' .. cjson.encode(queued_at) .. ',"startedAt":"' .. now .. '"}'
  redis.call('SET', ARGV[10] .. id_text(id), record, 'EX', ARGV[6])
  redis.call('LPUSH', KEYS[2], text)
  taken[#taken + 1] = text
end

local n = 0
if ARGV[2] == '1' then
  -- Gone when the reaper already returned it (this worker was presumed dead): not ours.
  if redis.call('LREM', KEYS[2], 1, ARGV[3]) == 1 then
    n = n + 1
    admit(ARGV[3], n)
  end
end
for _ = 1, tonumber(ARGV[1]) do
  local raw = redis.call('RPOP', KEYS[1])
  if not raw then break end
  n = n + 1
  admit(raw, n)
end
if poisoned > 0 then redis.call('LTRIM', KEYS[4], 0, tonumber(ARGV[7]) - 1) end
return taken
)lua";

// Report the outcomes of jobs a worker holds. Only jobs still in its processing list count, so
// the same report sent twice (after a lost reply) is applied once.
// KEYS: processing, queue, done, dead, delayed
// ARGV: done length, status ttl (s), job key prefix, then per job 6 values:
//   kind (done | dead | retry | return), the job as stored, id ("" for no status record),
//   record (N.done and N.job:<id>), extra (dead: the N.dead record; retry: the next envelope),
//   delay before the retry (ms)
// Returns 1 or 0 per job: applied or skipped.
const std::string kReport = R"lua(
local items = redis.call('LRANGE', KEYS[1], 0, -1)
local present = {}
for _, v in ipairs(items) do present[v] = (present[v] or 0) + 1 end
local removed = {}
local applied = {}
local any = false
local pushed_done = false
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
for i = 4, #ARGV, 6 do
  local kind, text, id, record, extra = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4]
  if (present[text] or 0) > 0 then
    present[text] = present[text] - 1
    removed[text] = (removed[text] or 0) + 1
    any = true
    if kind == 'done' or kind == 'dead' then
      redis.call('LPUSH', KEYS[3], record)
      pushed_done = true
    end
    if kind == 'dead' then redis.call('LPUSH', KEYS[4], extra) end
    if kind == 'retry' then redis.call('ZADD', KEYS[5], now + tonumber(ARGV[i + 5]), extra) end
    if kind == 'return' then redis.call('RPUSH', KEYS[2], text) end
    if id ~= '' then redis.call('SET', ARGV[3] .. id, record, 'EX', ARGV[2]) end
    applied[#applied + 1] = 1
  else
    applied[#applied + 1] = 0
  end
end
if any then
  local keep = {}
  for _, v in ipairs(items) do
    if (removed[v] or 0) > 0 then removed[v] = removed[v] - 1 else keep[#keep + 1] = v end
  end
  redis.call('DEL', KEYS[1])
  for j = 1, #keep, 1000 do
    redis.call('RPUSH', KEYS[1], unpack(keep, j, math.min(j + 999, #keep)))
  end
end
if pushed_done then redis.call('LTRIM', KEYS[3], 0, tonumber(ARGV[1]) - 1) end
return applied
)lua";

// Move retries that are due (by Redis' clock) to the back of N.queue.
// KEYS: delayed, queue   ARGV: most jobs per run
const std::string kPromote = R"lua(
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[1]))
for _, job in ipairs(due) do
  redis.call('ZREM', KEYS[1], job)
  redis.call('LPUSH', KEYS[2], job)
end
return #due
)lua";

// Return the jobs of every worker whose liveness key expired to the front of N.queue, oldest
// first, and forget the worker. Atomic, so any number of nodes may run it at once.
// KEYS: workers, queue   ARGV: key prefix "N."
const std::string kReap = R"lua(
local returned = 0
for _, worker in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if redis.call('EXISTS', ARGV[1] .. 'worker:' .. worker) == 0 then
    local list = ARGV[1] .. 'processing:' .. worker
    while true do
      local job = redis.call('LPOP', list)
      if not job then break end
      redis.call('RPUSH', KEYS[2], job)
      returned = returned + 1
    end
    redis.call('SREM', KEYS[1], worker)
  end
end
return returned
)lua";

// A worker gives back every job it holds (to the front of N.queue, oldest first) and, when
// ARGV[2] is "1", unregisters (a graceful stop).
// KEYS: processing, queue, heartbeat, workers   ARGV: worker id, unregister
const std::string kRelease = R"lua(
local returned = 0
while true do
  local job = redis.call('LPOP', KEYS[1])
  if not job then break end
  redis.call('RPUSH', KEYS[2], job)
  returned = returned + 1
end
if ARGV[2] == '1' then
  redis.call('DEL', KEYS[3])
  redis.call('SREM', KEYS[4], ARGV[1])
end
return returned
)lua";

// Enqueue one envelope and its "queued" status record.
// KEYS: queue, job status key   ARGV: envelope, record, status ttl (s)
const std::string kEnqueue = R"lua(
redis.call('LPUSH', KEYS[1], ARGV[1])
redis.call('SET', KEYS[2], ARGV[2], 'EX', ARGV[3])
return 1
)lua";

}  // namespace

Script::Script(std::string source) : source_(std::move(source)), sha_(sha1_hex(source_)) {}

Task<redis::Reply> Script::run(redis::Client& client, std::vector<std::string> keys,
                               std::vector<std::string> args) const {
  std::vector<std::string> command;
  command.reserve(3 + keys.size() + args.size());
  command.push_back("EVALSHA");
  command.push_back(sha_);
  command.push_back(std::to_string(keys.size()));
  for (auto& key : keys) command.push_back(std::move(key));
  for (auto& arg : args) command.push_back(std::move(arg));
  try {
    auto op = client.command(command);
    redis::Reply reply = co_await std::move(op);
    co_return reply;
  } catch (const redis::ReplyError& error) {
    if (std::string_view(error.what()).substr(0, 8) != "NOSCRIPT") throw;
  }
  // EVAL also caches the script, so the next EVALSHA finds it.
  command[0] = "EVAL";
  command[1] = source_;
  auto op = client.command(std::move(command));
  redis::Reply reply = co_await std::move(op);
  co_return reply;
}

const Script& take_script() {
  static const Script script(kTake);
  return script;
}
const Script& report_script() {
  static const Script script(kReport);
  return script;
}
const Script& promote_script() {
  static const Script script(kPromote);
  return script;
}
const Script& reap_script() {
  static const Script script(kReap);
  return script;
}
const Script& release_script() {
  static const Script script(kRelease);
  return script;
}
const Script& enqueue_script() {
  static const Script script(kEnqueue);
  return script;
}

}  // namespace plume::queue::detail
