// Task<T> is the coroutine type of every asynchronous Plume API, an Asio awaitable. WorkerPool
// runs blocking work (SQLite, password hashing) off the I/O threads and resumes the caller on
// its own executor.
#pragma once

#include <boost/asio/awaitable.hpp>

#include <cstddef>
#include <functional>
#include <memory>

namespace plume {

template <class T = void>
using Task = boost::asio::awaitable<T>;

class WorkerPool {
 public:
  explicit WorkerPool(std::size_t threads);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Runs `work` on a pool thread; the awaiting coroutine resumes on its own executor.
  // An exception thrown by `work` is rethrown in the caller.
  Task<void> run(std::function<void()> work);

  // Waits for queued work to finish and joins the threads.
  void stop();

  std::size_t size() const noexcept { return size_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::size_t size_;
};

}  // namespace plume
