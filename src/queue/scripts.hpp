// The queue's Lua scripts: each step that touches several keys runs as one script, so that it is
// atomic in Redis and safe when many nodes run it at once. Their contracts are in scripts.cpp.
#pragma once

#include <plume/core/task.hpp>
#include <plume/redis/client.hpp>

#include <string>
#include <vector>

namespace plume::queue::detail {

class Script {
 public:
  explicit Script(std::string source);

  // EVALSHA, or EVAL when Redis does not know the script (a fresh or restarted server).
  // Error replies throw redis::ReplyError.
  Task<redis::Reply> run(redis::Client& client, std::vector<std::string> keys,
                         std::vector<std::string> args) const;

  const std::string& sha() const noexcept { return sha_; }

 private:
  std::string source_;
  std::string sha_;
};

const Script& take_script();
const Script& report_script();
const Script& promote_script();
const Script& reap_script();
const Script& release_script();
const Script& enqueue_script();

}  // namespace plume::queue::detail
