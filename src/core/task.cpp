#include <plume/core/task.hpp>

#include <boost/asio/async_result.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <exception>
#include <utility>

namespace plume {

struct WorkerPool::Impl {
  explicit Impl(std::size_t threads) : pool(threads) {}
  boost::asio::thread_pool pool;
};

WorkerPool::WorkerPool(std::size_t threads)
    : impl_(std::make_unique<Impl>(std::max<std::size_t>(threads, 1))),
      size_(std::max<std::size_t>(threads, 1)) {}

WorkerPool::~WorkerPool() { stop(); }

namespace {

// Runs `work` on the pool, then completes the handler through its own associated executor: an
// awaiting coroutine resumes where it was, never on a pool thread. The work guard keeps the
// caller's executor (an io_context) from running out of work while the job is away.
template <class Token>
auto run_on(boost::asio::thread_pool::executor_type pool, std::function<void()> work, Token&& token) {
  return boost::asio::async_initiate<Token, void(std::exception_ptr)>(
      [pool](auto handler, std::function<void()> job) {
        auto caller = boost::asio::make_work_guard(boost::asio::get_associated_executor(handler));
        boost::asio::post(
            pool, [handler = std::move(handler), job = std::move(job), caller = std::move(caller)]() mutable {
              std::exception_ptr failure;
              try {
                job();
              } catch (...) {
                failure = std::current_exception();
              }
              auto executor = caller.get_executor();
              boost::asio::dispatch(
                  executor, [handler = std::move(handler), failure, caller = std::move(caller)]() mutable {
                    caller.reset();
                    std::move(handler)(failure);
                  });
            });
      },
      token, std::move(work));
}

}  // namespace

Task<void> WorkerPool::run(std::function<void()> work) {
  co_await run_on(impl_->pool.get_executor(), std::move(work), boost::asio::use_awaitable);
}

void WorkerPool::stop() { impl_->pool.join(); }

}  // namespace plume
