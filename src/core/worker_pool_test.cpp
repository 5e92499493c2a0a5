#include <plume/core/task.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>

namespace plume {
namespace {

TEST(WorkerPool, RunsWorkOffTheCallerThreadAndResumesOnTheCallersExecutor) {
  WorkerPool pool(2);
  boost::asio::io_context io;
  const auto io_thread = std::this_thread::get_id();
  std::thread::id work_thread;
  bool resumed_in_io = false;
  std::thread::id resumed_thread;

  auto done = boost::asio::co_spawn(
      io,
      [&]() -> Task<void> {
        co_await pool.run([&] {
          std::this_thread::sleep_for(std::chrono::milliseconds(20));
          work_thread = std::this_thread::get_id();
        });
        resumed_in_io = io.get_executor().running_in_this_thread();
        resumed_thread = std::this_thread::get_id();
      },
      boost::asio::use_future);
  io.run();

  // io.run() only returns once the coroutine finished: the pending job kept the context busy.
  ASSERT_EQ(done.wait_for(std::chrono::seconds(0)), std::future_status::ready);
  done.get();
  EXPECT_NE(work_thread, io_thread);
  EXPECT_NE(work_thread, std::thread::id());
  EXPECT_TRUE(resumed_in_io);
  EXPECT_EQ(resumed_thread, io_thread);
}

TEST(WorkerPool, ExceptionFromWorkIsRethrownInTheCaller) {
  WorkerPool pool(1);
  boost::asio::io_context io;
  std::string caught;
  bool caught_in_io = false;
  boost::asio::co_spawn(
      io,
      [&]() -> Task<void> {
        try {
          co_await pool.run([] { throw std::runtime_error("database is locked"); });
        } catch (const std::runtime_error& e) {
          caught = e.what();
          caught_in_io = io.get_executor().running_in_this_thread();
        }
      },
      boost::asio::detached);
  io.run();
  EXPECT_EQ(caught, "database is locked");
  EXPECT_TRUE(caught_in_io);
}

TEST(WorkerPool, JobsRunInParallelOnPoolThreads) {
  WorkerPool pool(4);
  EXPECT_EQ(pool.size(), 4u);
  boost::asio::io_context io;
  std::atomic<int> running{0};
  std::atomic<int> peak{0};
  std::atomic<int> finished{0};
  for (int i = 0; i < 4; ++i) {
    boost::asio::co_spawn(
        io,
        [&]() -> Task<void> {
          co_await pool.run([&] {
            const int now = ++running;
            int seen = peak.load();
            while (now > seen && !peak.compare_exchange_weak(seen, now)) {
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
            --running;
          });
          ++finished;
        },
        boost::asio::detached);
  }
  io.run();
  EXPECT_EQ(finished.load(), 4);
  EXPECT_GT(peak.load(), 1);
}

TEST(WorkerPool, StopWaitsForQueuedWork) {
  std::atomic<bool> ran{false};
  WorkerPool pool(1);
  boost::asio::io_context io;
  boost::asio::co_spawn(
      io, [&]() -> Task<void> { co_await pool.run([&] { ran = true; }); }, boost::asio::detached);
  io.run();
  pool.stop();
  EXPECT_TRUE(ran.load());
}

}  // namespace
}  // namespace plume
