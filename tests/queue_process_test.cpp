// Queue workers as real `plume serve` processes: a worker killed with SIGKILL in the middle of
// its jobs loses none of them; another node completes them (after the reaper returned them).
#include "testing/redis_server.hpp"

#include <plume/core/json.hpp>

#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;

// `plume serve --config <file>` with its output in a log file; SIGKILLed if still running at the end.
class PlumeWorker {
 public:
  PlumeWorker(const std::filesystem::path& config, const std::filesystem::path& log) {
    pid_ = ::fork();
    if (pid_ == 0) {
      const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      if (fd >= 0) {
        ::dup2(fd, 1);
        ::dup2(fd, 2);
      }
      ::setenv("PLUME_PORT", "0", 1);
      ::execl(PLUME_BINARY, PLUME_BINARY, "serve", "--config", config.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
  }
  ~PlumeWorker() { kill9(); }
  void kill9() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  bool running() const { return pid_ > 0 && ::waitpid(pid_, nullptr, WNOHANG) == 0; }

 private:
  pid_t pid_ = -1;
};

bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(50ms);
  }
  return condition();
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(QueueProcess, WorkerKilledMidJobLosesNothingAndAnotherNodeCompletesItsJobs) {
  plume::testing::RedisServer redis;
  const auto dir =
      std::filesystem::temp_directory_path() / ("plume-queue-" + std::to_string(std::random_device{}()));
  std::filesystem::create_directories(dir);
  constexpr int kJobs = 20'000;
  const auto config = dir / "worker.yaml";
  std::ofstream(config) << "name: worker\nhost: 127.0.0.1\nport: 0\n"
                        << "services:\n  work: { database: memory }\n"
                        << "queues:\n  work: { redis: " << redis.url()
                        << ", service: work, concurrency: 2, doneLength: " << 2 * kJobs << " }\n";

  for (int start = 0; start < kJobs; start += 1'000) {
    std::vector<std::string> push = {"LPUSH", "work.queue"};
    for (int i = start; i < start + 1'000; ++i) {
      push.push_back(R"({"id":"j)" + std::to_string(i) + R"(","data":{"n":)" + std::to_string(i) + "}}");
    }
    redis.redis_cli(push);
  }
  const auto count = [&](const std::vector<std::string>& args) {
    return std::stoll(redis.redis_cli_line(args));
  };

  PlumeWorker first(config, dir / "first.log");
  ASSERT_TRUE(wait_until(
      [&] {
        return count({"LLEN", "work.done"}) >= 500 || !first.running();
      },
      60s))
      << read_file(dir / "first.log");
  ASSERT_TRUE(first.running()) << read_file(dir / "first.log");
  first.kill9();
  const long long done_at_kill = count({"LLEN", "work.done"});
  ASSERT_LT(done_at_kill, kJobs) << "the worker finished before it could be killed";

  PlumeWorker second(config, dir / "second.log");
  // The reaper returns the killed worker's jobs once its heartbeat expired (workerTimeout).
  const auto processing = [&] {
    long long total = 0;
    std::istringstream keys(redis.redis_cli({"KEYS", "work.processing:*"}));
    for (std::string key; std::getline(keys, key);) {
      if (!key.empty()) total += count({"LLEN", key});
    }
    return total;
  };
  // Done when nothing waits anywhere (the queue, retries in work.delayed, the workers' lists) and
  // every job has an outcome: a moment with the queue and the lists empty can still come before
  // the last outcomes are written, or while a job waits for its retry.
  const bool settled = wait_until(
      [&] {
        return count({"LLEN", "work.queue"}) == 0 && count({"ZCARD", "work.delayed"}) == 0 &&
               processing() == 0 && count({"LLEN", "work.done"}) >= kJobs;
      },
      120s);
  EXPECT_TRUE(settled) << "queue " << count({"LLEN", "work.queue"}) << ", delayed "
                       << count({"ZCARD", "work.delayed"}) << ", processing " << processing() << ", done "
                       << count({"LLEN", "work.done"}) << "\n"
                       << read_file(dir / "second.log");

  std::set<std::string> completed;
  std::istringstream lines(redis.redis_cli({"LRANGE", "work.done", "0", "-1"}));
  for (std::string line; std::getline(lines, line);) {
    if (line.empty()) continue;
    const plume::Json record = plume::parse_json(line);
    EXPECT_EQ(record.at("status"), "done") << line;
    completed.insert(std::string(record.at("id").as_string()));
  }
  EXPECT_EQ(completed.size(), static_cast<std::size_t>(kJobs))
      << "jobs done when the first worker was killed: " << done_at_kill;
  EXPECT_EQ(count({"LLEN", "work.dead"}), 0);
  second.kill9();
  std::error_code ignored;
  std::filesystem::remove_all(dir, ignored);
}

}  // namespace
