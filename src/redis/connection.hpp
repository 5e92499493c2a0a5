// The connection under Client and Subscriber: one TCP socket to Redis on a strand, commands
// written in order (all queued commands coalesced into one write), replies matched first in
// first out, reply and connection deadlines, reconnection with backoff.
#pragma once

#include "redis/resp.hpp"

#include <plume/redis/client.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <atomic>
#include <chrono>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace plume::redis {

using Clock = std::chrono::steady_clock;

// One write's worth of commands whose replies complete it together.
struct Request {
  std::string payload;
  std::size_t expected = 0;
  std::vector<Reply> replies;
  // Extra time the server may take (blocking commands); milliseconds::max(): no deadline.
  std::chrono::milliseconds block{0};
  std::string name;  // the first command's name, for error messages
  Clock::time_point enqueued{};
  Clock::time_point written{};
  // Runs on the connection's strand when the request is queued (subscription bookkeeping, in
  // the order requests are sent).
  std::function<void()> on_queued;
  // Runs exactly once on the connection's strand: replies, or the error that ended the request.
  std::function<void(std::exception_ptr, std::vector<Reply>)> complete;
};

// Encodes the commands of one request and works out their deadline allowance.
std::shared_ptr<Request> make_request(const std::vector<std::vector<std::string>>& commands);

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  using Strand = boost::asio::strand<boost::asio::any_io_executor>;
  // A reply that is not an answer to a command (a pub/sub message): return true when consumed.
  using PushHandler = std::function<bool(Reply&)>;

  Connection(boost::asio::any_io_executor executor, RedisOptions options, std::string role);
  ~Connection();

  // Set before start(): pub/sub messages, and a hook that runs on every connection before the
  // connect listeners and before queued commands are written (it may submit_first()).
  void set_push_handler(PushHandler handler) { push_handler_ = std::move(handler); }
  void set_connect_hook(std::function<void(Connection&)> hook) { connect_hook_ = std::move(hook); }
  void start();

  // Any thread.
  void submit(std::shared_ptr<Request> request);
  void close();
  void add_connect_listener(std::function<void()> listener);
  void add_disconnect_listener(std::function<void(const std::string&)> listener);
  bool connected() const noexcept { return connected_.load(std::memory_order_acquire); }
  const std::string& address() const noexcept { return address_; }
  const Strand& strand() const noexcept { return strand_; }

  // On the strand, from the connect hook: written before anything already queued.
  void submit_first(std::shared_ptr<Request> request);

 private:
  enum class State { Connecting, Ready, Closed };

  boost::asio::awaitable<void> run();
  boost::asio::awaitable<void> keep_time();
  boost::asio::awaitable<void> connect_and_handshake();
  boost::asio::awaitable<void> read_and_dispatch();
  void become_ready();
  void connection_lost(const std::string& reason, bool was_ready);
  void enqueue(std::shared_ptr<Request> request, bool first);
  void start_write();
  void dispatch_reply(Reply reply);
  void fail_all(std::deque<std::shared_ptr<Request>>& requests, const std::exception_ptr& error);
  Clock::time_point reply_deadline(const Request& request) const;
  std::exception_ptr unavailable_error(const std::string& reason) const;
  std::chrono::milliseconds next_backoff();

  RedisOptions options_;
  RedisEndpoint endpoint_;
  std::string address_;
  std::string role_;
  Strand strand_;
  boost::asio::ip::tcp::resolver resolver_;
  boost::asio::ip::tcp::socket socket_;
  boost::asio::steady_timer connect_timer_;
  boost::asio::steady_timer backoff_timer_;
  boost::asio::steady_timer timekeeper_;

  PushHandler push_handler_;
  std::function<void(Connection&)> connect_hook_;
  std::vector<std::function<void()>> connect_listeners_;
  std::vector<std::function<void(const std::string&)>> disconnect_listeners_;

  // Strand-only state.
  State state_ = State::Connecting;
  std::atomic<bool> connected_{false};
  std::uint64_t generation_ = 0;
  std::deque<std::shared_ptr<Request>> waiting_;    // not written yet
  std::deque<std::shared_ptr<Request>> in_flight_;  // written, replies pending, in order
  Clock::time_point head_since_{};                  // when in_flight_.front() became the head
  bool writing_ = false;
  bool connect_timed_out_ = false;
  std::string reset_reason_;  // why the connection was reset on purpose (a reply deadline)
  std::string last_error_ = "not connected yet";
  std::unique_ptr<ReplyReader> reader_;
  std::vector<char> read_buffer_;
  std::chrono::milliseconds backoff_;
  int failures_in_a_row_ = 0;
  std::minstd_rand random_;
};

// Submits `request` and completes `token` with its replies on the caller's own executor. The
// work guard keeps the caller's event loop alive while the request is out.
template <class Token>
auto async_submit(std::shared_ptr<Connection> connection, std::shared_ptr<Request> request, Token&& token) {
  return boost::asio::async_initiate<Token, void(std::exception_ptr, std::vector<Reply>)>(
      [](auto handler, std::shared_ptr<Connection> connection, std::shared_ptr<Request> request) {
        auto work = boost::asio::make_work_guard(boost::asio::get_associated_executor(handler));
        using Handler = decltype(handler);
        using Work = decltype(work);
        struct Pending {
          Handler handler;
          Work work;
        };
        auto pending = std::make_shared<Pending>(Pending{std::move(handler), std::move(work)});
        request->complete = [pending](std::exception_ptr error, std::vector<Reply> replies) {
          auto executor = pending->work.get_executor();
          boost::asio::post(executor, [pending, error, replies = std::move(replies)]() mutable {
            auto handler = std::move(pending->handler);
            pending->work.reset();
            std::move(handler)(error, std::move(replies));
          });
        };
        connection->submit(std::move(request));
      },
      token, std::move(connection), std::move(request));
}

}  // namespace plume::redis
