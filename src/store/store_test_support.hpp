// Test support for store tests: driving service coroutines to completion on the test thread.
#pragma once

#include <plume/core/error.hpp>
#include <plume/core/task.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <exception>
#include <functional>
#include <optional>
#include <stdexcept>

namespace plume::store::testing {

// Runs a task on a private io_context until it completes; rethrows its exception.
template <class T>
T run(Task<T> task) {
  // Kept per thread: a worker posting the completion may still be inside that post when run()
  // returns, so the context must not be destroyed right away.
  thread_local boost::asio::io_context context;
  context.restart();
  auto guard = boost::asio::make_work_guard(context);
  std::optional<T> result;
  std::exception_ptr failure;
  boost::asio::co_spawn(context, std::move(task), [&](std::exception_ptr error, T value) {
    if (error) {
      failure = error;
    } else {
      result = std::move(value);
    }
    guard.reset();
  });
  context.run();
  if (failure) std::rethrow_exception(failure);
  return std::move(*result);
}

// The plume::Error a call throws; fails loudly when it throws nothing or something else.
inline Error error_of(const std::function<void()>& call) {
  try {
    call();
  } catch (const Error& error) {
    return error;
  }
  throw std::logic_error("expected the call to throw plume::Error");
}

}  // namespace plume::store::testing
