#include "redis/connection.hpp"

#include <plume/core/error.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <stdexcept>

namespace plume::redis {

namespace asio = boost::asio;
using asio::use_awaitable;

namespace {

constexpr std::size_t kReadChunk = 64 * 1024;

std::string upper(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::toupper(c); });
  return out;
}

Clock::time_point add(Clock::time_point start, std::chrono::milliseconds duration) {
  if (duration == std::chrono::milliseconds::max()) return Clock::time_point::max();
  const auto room = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::time_point::max() - start);
  if (duration >= room) return Clock::time_point::max();
  return start + duration;
}

}  // namespace

std::shared_ptr<Request> make_request(const std::vector<std::vector<std::string>>& commands) {
  auto request = std::make_shared<Request>();
  for (const auto& args : commands) {
    append_command(request->payload, args);
    const auto blocking = block_time(args);
    if (blocking) request->block = std::max(request->block, *blocking);
  }
  request->expected = commands.size();
  if (!commands.empty()) request->name = upper(commands.front().front());
  return request;
}

Connection::Connection(asio::any_io_executor executor, RedisOptions options, std::string role)
    : options_(std::move(options)),
      endpoint_(parse_redis_url(options_.url)),
      address_(endpoint_.host + ":" + std::to_string(endpoint_.port)),
      role_(std::move(role)),
      strand_(asio::make_strand(std::move(executor))),
      resolver_(strand_),
      socket_(strand_),
      connect_timer_(strand_),
      backoff_timer_(strand_),
      timekeeper_(strand_),
      read_buffer_(kReadChunk),
      backoff_(options_.backoff_min),
      random_(std::random_device{}()) {}

Connection::~Connection() = default;

void Connection::start() {
  auto self = shared_from_this();
  asio::co_spawn(
      strand_, [self]() { return self->run(); }, asio::detached);
  asio::co_spawn(
      strand_, [self]() { return self->keep_time(); }, asio::detached);
}

void Connection::submit(std::shared_ptr<Request> request) {
  request->enqueued = Clock::now();
  asio::dispatch(strand_, [self = shared_from_this(), request = std::move(request)]() mutable {
    self->enqueue(std::move(request), false);
  });
}

void Connection::submit_first(std::shared_ptr<Request> request) {
  request->enqueued = Clock::now();
  enqueue(std::move(request), true);
}

void Connection::enqueue(std::shared_ptr<Request> request, bool first) {
  if (state_ == State::Closed) {
    request->complete(
        std::make_exception_ptr(plume::unavailable("the Redis client for " + address_ + " is closed")), {});
    return;
  }
  if (request->on_queued) request->on_queued();
  const bool was_empty = waiting_.empty();
  if (first) {
    waiting_.push_front(std::move(request));
  } else {
    waiting_.push_back(std::move(request));
  }
  if (state_ == State::Ready) {
    start_write();
  } else if (was_empty) {
    timekeeper_.cancel();  // a connect deadline to watch now
  }
}

void Connection::close() {
  asio::dispatch(strand_, [self = shared_from_this()]() {
    if (self->state_ == State::Closed) return;
    const bool was_ready = self->state_ == State::Ready;
    self->state_ = State::Closed;
    self->connected_.store(false, std::memory_order_release);
    ++self->generation_;
    boost::system::error_code ignored;
    self->socket_.close(ignored);
    self->resolver_.cancel();
    self->connect_timer_.cancel();
    self->backoff_timer_.cancel();
    self->timekeeper_.cancel();
    const auto error =
        std::make_exception_ptr(plume::unavailable("the Redis client for " + self->address_ + " is closed"));
    self->fail_all(self->in_flight_, error);
    self->fail_all(self->waiting_, error);
    if (was_ready) spdlog::debug("event=redis_closed role={} address={}", self->role_, self->address_);
  });
}

void Connection::add_connect_listener(std::function<void()> listener) {
  asio::dispatch(strand_, [self = shared_from_this(), listener = std::move(listener)]() mutable {
    self->connect_listeners_.push_back(listener);
    // Added while connected: it would otherwise miss the connection it was added for.
    if (self->state_ == State::Ready) {
      try {
        listener();
      } catch (const std::exception& error) {
        spdlog::error("event=redis_listener_failed role={} address={} error=\"{}\"", self->role_,
                      self->address_, error.what());
      }
    }
  });
}

void Connection::add_disconnect_listener(std::function<void(const std::string&)> listener) {
  asio::dispatch(strand_, [self = shared_from_this(), listener = std::move(listener)]() mutable {
    self->disconnect_listeners_.push_back(std::move(listener));
  });
}

std::exception_ptr Connection::unavailable_error(const std::string& reason) const {
  return std::make_exception_ptr(plume::unavailable("Redis at " + address_ + " is unavailable: " + reason));
}

void Connection::fail_all(std::deque<std::shared_ptr<Request>>& requests, const std::exception_ptr& error) {
  auto failed = std::move(requests);
  requests.clear();
  for (auto& request : failed) request->complete(error, {});
}

std::chrono::milliseconds Connection::next_backoff() {
  // Full doubling from backoff_min to backoff_max; the delay is drawn from [backoff/2, backoff]
  // so that many clients cut off together do not reconnect in lockstep.
  const auto current = backoff_;
  backoff_ = std::min(options_.backoff_max, backoff_ * 2);
  const auto half = current.count() / 2;
  std::uniform_int_distribution<std::int64_t> jitter(0, std::max<std::int64_t>(half, 0));
  return std::chrono::milliseconds(current.count() - half + jitter(random_));
}

asio::awaitable<void> Connection::run() {
  auto self = shared_from_this();
  while (state_ != State::Closed) {
    std::string reason;
    bool was_ready = false;
    try {
      co_await connect_and_handshake();
      if (state_ == State::Closed) break;
      was_ready = true;
      become_ready();
      for (;;) co_await read_and_dispatch();
    } catch (const std::exception& error) {
      reason = error.what();
    }
    if (state_ == State::Closed) break;
    connection_lost(reason, was_ready);
    boost::system::error_code ignored;
    backoff_timer_.expires_after(next_backoff());
    co_await backoff_timer_.async_wait(asio::redirect_error(use_awaitable, ignored));
  }
}

asio::awaitable<void> Connection::connect_and_handshake() {
  auto self = shared_from_this();
  const auto generation = generation_;
  connect_timed_out_ = false;
  reset_reason_.clear();
  const auto timeout_reason =
      "no connection within " + std::to_string(options_.connect_timeout.count()) + " ms";
  connect_timer_.expires_after(options_.connect_timeout);
  connect_timer_.async_wait([self, generation](boost::system::error_code error) {
    if (error || self->generation_ != generation || self->state_ != State::Connecting) return;
    self->connect_timed_out_ = true;
    self->resolver_.cancel();
    boost::system::error_code ignored;
    self->socket_.close(ignored);
  });

  const std::string port = std::to_string(endpoint_.port);
  auto resolve = resolver_.async_resolve(endpoint_.host, port, asio::as_tuple(use_awaitable));
  auto [resolve_error, endpoints] = co_await std::move(resolve);
  if (resolve_error) {
    throw std::runtime_error(connect_timed_out_
                                 ? timeout_reason
                                 : "cannot resolve " + endpoint_.host + ": " + resolve_error.message());
  }
  auto [connect_error, connected_to] =
      co_await asio::async_connect(socket_, endpoints, asio::as_tuple(use_awaitable));
  if (connect_error) throw std::runtime_error(connect_timed_out_ ? timeout_reason : connect_error.message());
  boost::system::error_code ignored;
  socket_.set_option(asio::ip::tcp::no_delay(true), ignored);
  reader_ = std::make_unique<ReplyReader>();

  std::vector<std::vector<std::string>> handshake;
  if (!endpoint_.password.empty()) {
    if (endpoint_.user.empty()) {
      handshake.push_back({"AUTH", endpoint_.password});
    } else {
      handshake.push_back({"AUTH", endpoint_.user, endpoint_.password});
    }
  }
  if (endpoint_.db != 0) handshake.push_back({"SELECT", std::to_string(endpoint_.db)});
  if (!options_.client_name.empty()) {
    // CLIENT SETNAME refuses spaces and newlines.
    std::string name = options_.client_name;
    std::replace_if(
        name.begin(), name.end(), [](unsigned char c) { return std::isspace(c); }, '_');
    handshake.push_back({"CLIENT", "SETNAME", name});
  }
  if (!handshake.empty()) {
    auto request = make_request(handshake);
    // The completion outlives this frame if the connection drops: it owns what it fills.
    auto answers = std::make_shared<std::optional<std::vector<Reply>>>();
    request->complete = [answers](std::exception_ptr error, std::vector<Reply> replies) {
      if (!error) *answers = std::move(replies);
    };
    request->written = Clock::now();
    head_since_ = request->written;
    in_flight_.push_back(request);
    auto [write_error, written] =
        co_await asio::async_write(socket_, asio::buffer(request->payload), asio::as_tuple(use_awaitable));
    if (write_error) throw std::runtime_error(connect_timed_out_ ? timeout_reason : write_error.message());
    try {
      while (!answers->has_value()) co_await read_and_dispatch();
    } catch (const std::exception&) {
      if (connect_timed_out_) throw std::runtime_error(timeout_reason);
      throw;
    }
    for (std::size_t i = 0; i < handshake.size(); ++i) {
      const auto& reply = (**answers)[i];
      if (reply.is_error()) throw std::runtime_error(handshake[i][0] + " failed: " + reply.str);
    }
  }
  connect_timer_.cancel();
}

asio::awaitable<void> Connection::read_and_dispatch() {
  auto [error, size] =
      co_await socket_.async_read_some(asio::buffer(read_buffer_), asio::as_tuple(use_awaitable));
  if (error) {
    if (!reset_reason_.empty()) throw std::runtime_error(reset_reason_);
    if (error == asio::error::eof) throw std::runtime_error("the server closed the connection");
    throw std::runtime_error(error.message());
  }
  reader_->feed(read_buffer_.data(), size);
  while (auto reply = reader_->next()) {
    dispatch_reply(std::move(*reply));
    if (state_ == State::Closed) co_return;
  }
}

void Connection::dispatch_reply(Reply reply) {
  if (push_handler_ && push_handler_(reply)) return;
  if (in_flight_.empty()) throw std::runtime_error("Redis sent a reply no command was waiting for");
  auto& head = in_flight_.front();
  head->replies.push_back(std::move(reply));
  if (head->replies.size() < head->expected) return;
  auto done = std::move(head);
  in_flight_.pop_front();
  head_since_ = Clock::now();
  done->complete(nullptr, std::move(done->replies));
}

void Connection::become_ready() {
  state_ = State::Ready;
  connected_.store(true, std::memory_order_release);
  backoff_ = options_.backoff_min;
  if (failures_in_a_row_ > 0) {
    spdlog::info("event=redis_connected role={} address={} after_failures={}", role_, address_,
                 failures_in_a_row_);
  } else {
    spdlog::debug("event=redis_connected role={} address={}", role_, address_);
  }
  failures_in_a_row_ = 0;
  head_since_ = Clock::now();
  timekeeper_.cancel();  // heartbeats from now on
  if (connect_hook_) connect_hook_(*this);
  // Listeners may close the connection or add listeners: iterate over a copy.
  const auto listeners = connect_listeners_;
  for (const auto& listener : listeners) {
    if (state_ != State::Ready) return;
    try {
      listener();
    } catch (const std::exception& error) {
      spdlog::error("event=redis_listener_failed role={} address={} error=\"{}\"", role_, address_,
                    error.what());
    }
  }
  start_write();
}

void Connection::connection_lost(const std::string& reason, bool was_ready) {
  ++generation_;
  state_ = State::Connecting;
  connected_.store(false, std::memory_order_release);
  writing_ = false;
  boost::system::error_code ignored;
  socket_.close(ignored);
  connect_timer_.cancel();
  last_error_ = reason;
  // Commands in flight may or may not have run: they fail; those not written yet wait for the
  // next connection (up to connect_timeout).
  fail_all(in_flight_, unavailable_error(reason));
  timekeeper_.cancel();
  if (was_ready) {
    spdlog::warn("event=redis_disconnected role={} address={} reason=\"{}\"", role_, address_, reason);
    const auto listeners = disconnect_listeners_;
    for (const auto& listener : listeners) {
      try {
        listener(reason);
      } catch (const std::exception& error) {
        spdlog::error("event=redis_listener_failed role={} address={} error=\"{}\"", role_, address_,
                      error.what());
      }
    }
  } else if (failures_in_a_row_++ == 0) {
    spdlog::warn("event=redis_connect_failed role={} address={} reason=\"{}\"", role_, address_, reason);
  } else {
    spdlog::debug("event=redis_connect_failed role={} address={} reason=\"{}\" attempt={}", role_, address_,
                  reason, failures_in_a_row_);
  }
}

void Connection::start_write() {
  if (state_ != State::Ready || writing_ || waiting_.empty()) return;
  writing_ = true;
  const auto now = Clock::now();
  if (in_flight_.empty()) {
    head_since_ = now;
    timekeeper_.cancel();  // a reply deadline to watch now
  }
  // Everything queued goes out in one write: the pipelining that makes a Redis client fast.
  auto buffer = std::make_shared<std::string>();
  while (!waiting_.empty()) {
    auto request = std::move(waiting_.front());
    waiting_.pop_front();
    if (buffer->empty()) {
      buffer->swap(request->payload);
    } else {
      buffer->append(request->payload);
      std::string().swap(request->payload);
    }
    request->written = now;
    in_flight_.push_back(std::move(request));
  }
  const auto generation = generation_;
  asio::async_write(socket_, asio::buffer(*buffer),
                    asio::bind_executor(strand_, [self = shared_from_this(), buffer, generation](
                                                     boost::system::error_code error, std::size_t) {
                      if (self->generation_ != generation) return;
                      self->writing_ = false;
                      if (error) {
                        // The read side sees the closed socket and reconnects.
                        self->reset_reason_ = "write failed: " + error.message();
                        self->state_ = State::Connecting;
                        self->connected_.store(false, std::memory_order_release);
                        boost::system::error_code ignored;
                        self->socket_.close(ignored);
                        return;
                      }
                      self->start_write();
                    }));
}

Clock::time_point Connection::reply_deadline(const Request& request) const {
  if (request.block == std::chrono::milliseconds::max()) return Clock::time_point::max();
  // Redis answers in order: a command behind a slow one is timed from when it reached the head.
  const auto start = std::max(request.written, head_since_);
  return add(add(start, options_.command_timeout), request.block);
}

asio::awaitable<void> Connection::keep_time() {
  auto self = shared_from_this();
  while (state_ != State::Closed) {
    const auto now = Clock::now();
    auto next = Clock::time_point::max();
    if (state_ != State::Ready) {
      while (!waiting_.empty() && add(waiting_.front()->enqueued, options_.connect_timeout) <= now) {
        auto request = std::move(waiting_.front());
        waiting_.pop_front();
        request->complete(unavailable_error(last_error_), {});
      }
      if (!waiting_.empty()) next = add(waiting_.front()->enqueued, options_.connect_timeout);
    } else if (!in_flight_.empty()) {
      const auto deadline = reply_deadline(*in_flight_.front());
      if (deadline <= now) {
        // Replies come in order: once one is missing, which reply belongs to which command is
        // unknown, so the connection is reset and everything in flight fails.
        reset_reason_ = "no reply to " + in_flight_.front()->name + " within " +
                        std::to_string(options_.command_timeout.count()) + " ms (connection reset)";
        state_ = State::Connecting;
        connected_.store(false, std::memory_order_release);
        fail_all(in_flight_, unavailable_error(reset_reason_));
        boost::system::error_code ignored;
        socket_.close(ignored);
        continue;
      }
      next = deadline;
    } else if (options_.heartbeat.count() > 0 && waiting_.empty()) {
      const auto due = add(head_since_, options_.heartbeat);
      if (due <= now) {
        auto ping = make_request({{"PING"}});
        ping->complete = [](std::exception_ptr, std::vector<Reply>) {};
        ping->enqueued = now;
        enqueue(std::move(ping), false);
        continue;
      }
      next = due;
    }
    boost::system::error_code ignored;
    timekeeper_.expires_at(next);
    co_await timekeeper_.async_wait(asio::redirect_error(use_awaitable, ignored));
  }
}

}  // namespace plume::redis
