// RESP2 on the wire, through hiredis: commands encoded with redisFormatCommandArgv (binary-safe
// arguments), replies decoded incrementally with a redisReader, and the extra time a blocking
// command may legitimately wait for its reply.
#pragma once

#include <plume/redis/client.hpp>

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

struct redisReader;

namespace plume::redis {

// Appends the RESP encoding of one command to `out`.
void append_command(std::string& out, const std::vector<std::string>& args);

// Feeds bytes as they arrive and takes complete replies out one by one.
class ReplyReader {
 public:
  ReplyReader();
  ~ReplyReader();
  ReplyReader(const ReplyReader&) = delete;
  ReplyReader& operator=(const ReplyReader&) = delete;

  void feed(const char* data, std::size_t size);
  // The next complete reply, or nullopt when more bytes are needed. Throws std::runtime_error on
  // a protocol error (the connection must then be dropped).
  std::optional<Reply> next();

 private:
  redisReader* reader_;
};

// How long a command may block in the server before it replies: nullopt for ordinary commands,
// a duration for BLPOP/BRPOP/BLMOVE/BRPOPLPUSH/BLMPOP/BZPOPMIN/BZPOPMAX/BZMPOP (timeout in
// seconds), XREAD/XREADGROUP ... BLOCK ms and WAIT (ms); duration::max() when it may block
// forever (a timeout of 0).
std::optional<std::chrono::milliseconds> block_time(const std::vector<std::string>& args);

}  // namespace plume::redis
