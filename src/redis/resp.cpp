#include "redis/resp.hpp"

#include <hiredis/hiredis.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <memory>
#include <stdexcept>

namespace plume::redis {

void append_command(std::string& out, const std::vector<std::string>& args) {
  if (args.empty()) throw std::invalid_argument("a Redis command needs at least its name");
  std::vector<const char*> argv;
  std::vector<std::size_t> lengths;
  argv.reserve(args.size());
  lengths.reserve(args.size());
  for (const auto& arg : args) {
    argv.push_back(arg.data());
    lengths.push_back(arg.size());
  }
  char* encoded = nullptr;
  const int size =
      redisFormatCommandArgv(&encoded, static_cast<int>(args.size()), argv.data(), lengths.data());
  if (size < 0 || encoded == nullptr) throw std::bad_alloc();
  out.append(encoded, static_cast<std::size_t>(size));
  redisFreeCommand(encoded);
}

namespace {

Reply convert(const redisReply* reply) {
  Reply out;
  switch (reply->type) {
    case REDIS_REPLY_STRING:
      out.type = Reply::Type::String;
      out.str.assign(reply->str, reply->len);
      break;
    case REDIS_REPLY_STATUS:
      out.type = Reply::Type::Status;
      out.str.assign(reply->str, reply->len);
      break;
    case REDIS_REPLY_ERROR:
      out.type = Reply::Type::Error;
      out.str.assign(reply->str, reply->len);
      break;
    case REDIS_REPLY_INTEGER:
      out.type = Reply::Type::Integer;
      out.integer = reply->integer;
      break;
    case REDIS_REPLY_ARRAY:
      out.type = Reply::Type::Array;
      out.elements.reserve(reply->elements);
      for (std::size_t i = 0; i < reply->elements; ++i) out.elements.push_back(convert(reply->element[i]));
      break;
    default:
      out.type = Reply::Type::Nil;
      break;
  }
  return out;
}

struct ReplyDeleter {
  void operator()(void* reply) const { freeReplyObject(reply); }
};

}  // namespace

ReplyReader::ReplyReader() : reader_(redisReaderCreate()) {
  if (reader_ == nullptr) throw std::bad_alloc();
}

ReplyReader::~ReplyReader() { redisReaderFree(reader_); }

void ReplyReader::feed(const char* data, std::size_t size) {
  if (redisReaderFeed(reader_, data, size) != REDIS_OK) throw std::bad_alloc();
}

std::optional<Reply> ReplyReader::next() {
  void* raw = nullptr;
  if (redisReaderGetReply(reader_, &raw) != REDIS_OK) {
    throw std::runtime_error(std::string("Redis protocol error: ") + reader_->errstr);
  }
  if (raw == nullptr) return std::nullopt;
  std::unique_ptr<void, ReplyDeleter> owned(raw);
  return convert(static_cast<const redisReply*>(raw));
}

namespace {

std::string upper(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::toupper(c); });
  return out;
}

std::optional<std::chrono::milliseconds> from_seconds(const std::string& text) {
  char* end = nullptr;
  const double seconds = std::strtod(text.c_str(), &end);
  if (end == text.c_str() || !std::isfinite(seconds) || seconds < 0) return std::nullopt;
  if (seconds == 0) return std::chrono::milliseconds::max();
  return std::chrono::milliseconds(static_cast<std::int64_t>(std::ceil(seconds * 1000)));
}

std::optional<std::chrono::milliseconds> from_milliseconds(const std::string& text) {
  char* end = nullptr;
  const long long ms = std::strtoll(text.c_str(), &end, 10);
  if (end == text.c_str() || ms < 0) return std::nullopt;
  if (ms == 0) return std::chrono::milliseconds::max();
  return std::chrono::milliseconds(ms);
}

}  // namespace

std::optional<std::chrono::milliseconds> block_time(const std::vector<std::string>& args) {
  if (args.empty()) return std::nullopt;
  const std::string name = upper(args.front());
  // Timeout as the last argument, in seconds (https://redis.io/commands/blmove and siblings).
  if (name == "BLPOP" || name == "BRPOP" || name == "BLMOVE" || name == "BRPOPLPUSH" || name == "BZPOPMIN" ||
      name == "BZPOPMAX") {
    return args.size() >= 3 ? from_seconds(args.back()) : std::nullopt;
  }
  // BLMPOP timeout numkeys key... / BZMPOP timeout numkeys key...
  if (name == "BLMPOP" || name == "BZMPOP") return args.size() >= 2 ? from_seconds(args[1]) : std::nullopt;
  // WAIT numreplicas timeout-ms
  if (name == "WAIT") return args.size() >= 3 ? from_milliseconds(args[2]) : std::nullopt;
  // XREAD [COUNT n] [BLOCK ms] STREAMS ...; XREADGROUP GROUP g c [COUNT n] [BLOCK ms] [NOACK] STREAMS ...
  if (name == "XREAD" || name == "XREADGROUP") {
    for (std::size_t i = 1; i + 1 < args.size(); ++i) {
      const std::string option = upper(args[i]);
      if (option == "STREAMS") break;
      if (option == "BLOCK") return from_milliseconds(args[i + 1]);
    }
  }
  return std::nullopt;
}

}  // namespace plume::redis
