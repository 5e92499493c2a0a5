// Drives client coroutines in unit tests: run a task to completion on an io_context with a
// generous limit, and wait for a condition without fixed sleeps.
#pragma once

#include <plume/core/task.hpp>
#include <plume/redis/client.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <future>
#include <stdexcept>
#include <string>

// ASSERT_* returns from the function, which a coroutine cannot: this one co_returns.
#define PLUME_CO_ASSERT(condition)                         \
  do {                                                     \
    if (!(condition)) {                                    \
      ADD_FAILURE() << "assertion failed: " << #condition; \
      co_return;                                           \
    }                                                      \
  } while (false)

namespace plume::redis::testing {

// Quick reconnection so that restart tests do not wait for the production backoff.
inline RedisOptions fast_options(std::string url) {
  RedisOptions options;
  options.url = std::move(url);
  options.backoff_min = std::chrono::milliseconds(10);
  options.backoff_max = std::chrono::milliseconds(200);
  return options;
}

// Runs `task` on `context` until it finishes (the context may hold other work, such as a
// client's connection, that never ends by itself).
template <class T>
T run_test(boost::asio::io_context& context, Task<T> task,
           std::chrono::seconds limit = std::chrono::seconds(60)) {
  context.restart();
  auto future = boost::asio::co_spawn(context, std::move(task), boost::asio::use_future);
  boost::asio::steady_timer limit_timer(context, limit);
  bool timed_out = false;
  limit_timer.async_wait([&timed_out, &context](boost::system::error_code error) {
    if (error) return;
    timed_out = true;
    context.stop();
  });
  while (!context.stopped() && future.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
    context.run_one();
  }
  limit_timer.cancel();
  if (timed_out)
    throw std::runtime_error("the test did not finish within " + std::to_string(limit.count()) + " s");
  if (future.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
    throw std::runtime_error("the test task ran out of work without finishing");
  }
  return future.get();
}

inline Task<void> sleep_for(std::chrono::milliseconds duration) {
  boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor, duration);
  co_await timer.async_wait(boost::asio::use_awaitable);
}

// Polls `condition` until it holds; throws after `limit` (generous: a loaded machine is slow).
inline Task<void> eventually(std::function<bool()> condition, std::string what,
                             std::chrono::milliseconds limit = std::chrono::seconds(30)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline)
      throw std::runtime_error("timed out waiting for " + what);
    co_await sleep_for(std::chrono::milliseconds(5));
  }
}

}  // namespace plume::redis::testing
