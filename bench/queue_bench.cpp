// Queue throughput: fills <name>.queue with N jobs, starts a Queue with C workers whose service
// does nothing, and times until every outcome is in <name>.done. Prints "jobs seconds jobs_per_s".
//   queue_bench <redis-url> <jobs> <concurrency>
#include <plume/core/app.hpp>
#include <plume/queue/queue.hpp>
#include <plume/redis/client.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

namespace {

class NoOp final : public plume::Service {
 public:
  plume::Task<plume::Json> create(plume::Json data, plume::Params&) override { co_return nullptr; }
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: queue_bench <redis-url> <jobs> <concurrency>\n");
    return 2;
  }
  spdlog::set_level(spdlog::level::warn);
  const std::string url = argv[1];
  const long jobs = std::atol(argv[2]);
  const std::size_t concurrency = static_cast<std::size_t>(std::atol(argv[3]));
  const std::string name = "bench" + std::to_string(concurrency);

  // The client's connection keeps the io_context busy: it runs on a thread of its own.
  boost::asio::io_context io;
  auto guard = boost::asio::make_work_guard(io);
  std::thread io_thread([&] { io.run(); });
  auto client = plume::redis::Client::create(io.get_executor(), plume::redis::RedisOptions{.url = url});
  const auto command = [&](std::vector<std::string> args) {
    return boost::asio::co_spawn(io, client->command(std::move(args)), boost::asio::use_future).get();
  };
  command({"DEL", name + ".queue", name + ".done", name + ".dead", name + ".delayed"});
  for (long start = 0; start < jobs; start += 1'000) {
    std::vector<std::string> push = {"LPUSH", name + ".queue"};
    for (long i = start; i < std::min(jobs, start + 1'000); ++i)
      push.push_back("{\"n\":" + std::to_string(i) + "}");
    command(std::move(push));
  }

  plume::App app;
  app.use("noop", std::make_unique<NoOp>());
  plume::queue::QueueOptions options;
  options.name = name;
  options.redis = url;
  options.service = "noop";
  options.concurrency = concurrency;
  options.done_length = static_cast<std::size_t>(jobs);
  plume::queue::Queue queue(app, options);

  const auto begin = std::chrono::steady_clock::now();
  queue.start();
  while (command({"LLEN", name + ".done"}).integer < jobs) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
  queue.stop();
  std::printf("%ld %.3f %.0f\n", jobs, seconds, static_cast<double>(jobs) / seconds);
  client->close();
  guard.reset();
  io.stop();
  io_thread.join();
  return 0;
}
