// One asynchronous Redis client for the whole system (mesh discovery, replica sync, job queues,
// shared rate limits): a TCP connection on Asio, RESP2 encoded and decoded by hiredis, commands
// pipelined in order, reconnection with exponential backoff, and a pub/sub mode.
#pragma once

#include <plume/core/task.hpp>

#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace plume::redis {

struct RedisOptions {
  // redis://[[user]:password@]host[:port][/db]; the port defaults to 6379, db to 0.
  std::string url = "redis://127.0.0.1:6379";
  std::chrono::milliseconds connect_timeout{2'000};
  // A command without a reply after this fails with Unavailable (blocking commands such as
  // BLMOVE or XREAD BLOCK get their own block time on top).
  std::chrono::milliseconds command_timeout{5'000};
  // Reconnection backoff: doubles from min to max, with jitter.
  std::chrono::milliseconds backoff_min{100};
  std::chrono::milliseconds backoff_max{5'000};
  std::string client_name;  // CLIENT SETNAME, shown by CLIENT LIST
  // A PING on a connection idle this long, so that a peer gone silent (no FIN, no RST) is found
  // within heartbeat + command_timeout; 0 turns it off.
  std::chrono::milliseconds heartbeat{5'000};
};

// Parses a redis:// URL; throws std::invalid_argument naming what is wrong.
struct RedisEndpoint {
  std::string host;
  std::uint16_t port = 6379;
  std::string user;
  std::string password;
  int db = 0;
};
RedisEndpoint parse_redis_url(std::string_view url);

// A RESP2 reply.
struct Reply {
  enum class Type { String, Status, Integer, Nil, Array, Error };
  Type type = Type::Nil;
  std::string str;  // String, Status and Error
  std::int64_t integer = 0;
  std::vector<Reply> elements;  // Array

  bool is_nil() const noexcept { return type == Type::Nil; }
  bool is_error() const noexcept { return type == Type::Error; }
};

// An error reply from the server (-ERR, -WRONGTYPE, -NOSCRIPT...): the message as Redis sent it.
class ReplyError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A client holds one connection. Commands from any thread are written in order and their
// replies matched in order (pipelining); a caller resumes on its own executor. While the
// connection is down, commands wait for it up to connect_timeout and then fail with plume::Error
// Unavailable ("Redis at host:port is unavailable: <reason>"); commands in flight when it drops
// fail the same way (they may or may not have run). A command without a reply within
// command_timeout (plus the block time of BLPOP/BLMOVE/XREAD BLOCK...) fails with Unavailable
// and resets the connection. A blocking command holds the connection: give it a client of its
// own. Dropping the last reference closes the client.
class Client : public std::enable_shared_from_this<Client> {
 public:
  // Starts connecting at once. The connection's I/O runs on a strand of `executor` (any I/O
  // executor: an io_context's, a thread pool's); callers on other executors resume on their own.
  static std::shared_ptr<Client> create(boost::asio::any_io_executor executor, RedisOptions options);
  virtual ~Client() = default;

  // Sends one command and returns its reply; error replies throw ReplyError.
  virtual Task<Reply> command(std::vector<std::string> args) = 0;
  // Sends several commands in one write and returns their replies in order; error replies are
  // returned as Reply::Type::Error, not thrown (MULTI/EXEC and scripts need them in place).
  virtual Task<std::vector<Reply>> pipeline(std::vector<std::vector<std::string>> commands) = 0;

  virtual bool connected() const noexcept = 0;
  // Runs after every successful (re)connection, on the client's strand, before queued commands
  // are sent (AUTH, SELECT and CLIENT SETNAME have already run). Added while connected, it also
  // runs once at once. Listeners must not block; they may start coroutines.
  virtual void on_connect(std::function<void()> listener) = 0;
  // Runs when an established connection is lost (the client reconnects by itself), on the
  // client's strand.
  virtual void on_disconnect(std::function<void(const std::string& reason)> listener) = 0;
  // Closes the connection for good; pending commands fail with Unavailable. Any thread, idempotent.
  virtual void close() = 0;
  // "host:port" for logs and errors.
  virtual std::string address() const = 0;
};

// A connection in pub/sub mode. Subscriptions are kept and renewed after every reconnection;
// messages are delivered on the subscriber's strand (of the executor given to create) in the
// order Redis sent them; the handler must not block. Messages published while disconnected are
// lost (pub/sub has no history): on_connect is the moment to re-read state.
class Subscriber : public std::enable_shared_from_this<Subscriber> {
 public:
  using MessageHandler = std::function<void(std::string_view channel, std::string_view payload)>;
  static std::shared_ptr<Subscriber> create(boost::asio::any_io_executor executor, RedisOptions options,
                                            MessageHandler handler);
  virtual ~Subscriber() = default;

  // Resolves once Redis confirmed the subscription (so a PUBLISH after it is seen). The channels
  // are remembered even if this fails with Unavailable: the next connection subscribes them.
  virtual Task<void> subscribe(std::vector<std::string> channels) = 0;
  virtual Task<void> unsubscribe(std::vector<std::string> channels) = 0;
  // Glob patterns (PSUBSCRIBE news.*): the handler receives the channel that matched.
  virtual Task<void> psubscribe(std::vector<std::string> patterns) = 0;
  virtual Task<void> punsubscribe(std::vector<std::string> patterns) = 0;
  virtual bool connected() const noexcept = 0;
  // Runs after every (re)subscription, e.g. to re-read state that changed while disconnected
  // (also after a connection with nothing to subscribe yet). Added while subscribed, it also
  // runs once at once.
  virtual void on_connect(std::function<void()> listener) = 0;
  // Any thread, idempotent; dropping the last reference closes it too.
  virtual void close() = 0;
};

}  // namespace plume::redis
