// Drives a Task to completion on a fresh io_context, for unit tests of coroutine APIs.
#pragma once

#include <plume/core/task.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <utility>

namespace plume::testing {

template <class T>
T run_sync(Task<T> task) {
  boost::asio::io_context context;
  auto future = boost::asio::co_spawn(context, std::move(task), boost::asio::use_future);
  context.run();
  return future.get();
}

}  // namespace plume::testing
